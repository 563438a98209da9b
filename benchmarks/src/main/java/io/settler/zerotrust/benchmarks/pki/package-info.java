/** Benchmarks of the development PKI ({@code io.settler.zerotrust.pki}). */
@NullMarked
package io.settler.zerotrust.benchmarks.pki;

import org.jspecify.annotations.NullMarked;
