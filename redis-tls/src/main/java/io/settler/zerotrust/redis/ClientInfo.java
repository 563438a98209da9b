package io.settler.zerotrust.redis;

/** Reads fields of a {@code CLIENT INFO} reply ({@code id=7 addr=127.0.0.1:50312 laddr=... user=api ...}). */
final class ClientInfo {

    private ClientInfo() {
    }

    /** The value of {@code field}, or the empty string. */
    static String field(String info, String field) {
        for (String pair : info.trim().split(" ")) {
            int equals = pair.indexOf('=');
            if (equals > 0 && pair.substring(0, equals).equals(field)) {
                return pair.substring(equals + 1);
            }
        }
        return "";
    }

    /** The client's port in {@code addr} (the server's view of our local address), or -1. */
    static int localPort(String info) {
        String address = field(info, "addr");
        int colon = address.lastIndexOf(':');
        try {
            return colon < 0 ? -1 : Integer.parseInt(address.substring(colon + 1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
