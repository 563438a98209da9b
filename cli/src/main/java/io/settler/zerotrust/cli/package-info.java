/**
 * {@code zt}, the command line for operators and security reviewers ({@link io.settler.zerotrust.cli.Zt}):
 * certificates, policies, tokens, a development CA and the rendered server configuration, each
 * answered by the library's own classes. Exit codes: 0 ok, 1 a finding, 2 a usage error.
 */
@NullMarked
package io.settler.zerotrust.cli;

import org.jspecify.annotations.NullMarked;
