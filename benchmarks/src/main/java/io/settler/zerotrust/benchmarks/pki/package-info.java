/** Benchmarks of the development PKI ({@code io.settler.zerotrust.pki}). */
package io.settler.zerotrust.benchmarks.pki;
