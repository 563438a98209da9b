/** IP address literals and CIDR networks, parsed strictly and never resolved through DNS. */
@NullMarked
package io.settler.zerotrust.network;

import org.jspecify.annotations.NullMarked;
