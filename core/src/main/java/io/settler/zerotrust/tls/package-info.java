@NullMarked
package io.settler.zerotrust.tls;

import org.jspecify.annotations.NullMarked;
