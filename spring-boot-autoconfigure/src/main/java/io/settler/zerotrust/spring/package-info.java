/**
 * Spring Boot auto-configuration of the library: {@code zerotrust.*} properties
 * ({@link io.settler.zerotrust.spring.ZeroTrustProperties}) give a Boot service its rotating
 * credentials, its policy, the embedded Tomcat on mutual TLS 1.3 with the policy's authorizer in
 * the handshake, and Spring Security authentication by service token whose scopes become
 * {@code SCOPE_<scope>} authorities, {@link io.settler.zerotrust.spring.ZeroTrustClients} that call other
 * services over mutual TLS with scoped tokens, Actuator's {@code zerotrust} health component, and from
 * {@code zerotrust.postgres.*} / {@code zerotrust.redis.*} a verify-full PostgreSQL pool whose Spring
 * transactions see only the caller's tenant (row-level security from the token's tenant claim) and a
 * hardened Redis client, each with its health component.
 * A missing or insecure setting stops the start with a
 * {@link io.settler.zerotrust.spring.ZeroTrustConfigurationException} that says what to fix.
 */
@NullMarked
package io.settler.zerotrust.spring;

import org.jspecify.annotations.NullMarked;
