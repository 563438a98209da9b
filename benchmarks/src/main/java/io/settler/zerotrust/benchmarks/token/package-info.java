/** Service-token verification against jjwt, Nimbus JOSE+JWT, auth0 java-jwt and raw JCA signatures. */
@NullMarked
package io.settler.zerotrust.benchmarks.token;

import org.jspecify.annotations.NullMarked;
