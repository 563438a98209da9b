/** Service-token verification against jjwt, Nimbus JOSE+JWT, auth0 java-jwt and raw JCA signatures. */
package io.settler.zerotrust.benchmarks.token;
