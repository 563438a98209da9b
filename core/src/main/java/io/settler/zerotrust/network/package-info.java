/** IP address literals and CIDR networks, parsed strictly and never resolved through DNS. */
package io.settler.zerotrust.network;
