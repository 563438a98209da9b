/** Checking and converting the durations that builders take, so no small value silently means "forever". */
@NullMarked
package io.settler.zerotrust.time;

import org.jspecify.annotations.NullMarked;
