/** Checking and converting the durations that builders take, so no small value silently means "forever". */
package io.settler.zerotrust.time;
