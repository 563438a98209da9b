/**
 * The server configuration of a policy, rendered into files an operator puts on PostgreSQL and
 * Redis: the one code path of {@code zt render} and the demo's {@code bin/demo --prepare}.
 */
@NullMarked
package io.settler.zerotrust.cli.render;

import org.jspecify.annotations.NullMarked;
