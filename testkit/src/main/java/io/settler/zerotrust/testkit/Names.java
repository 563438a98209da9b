package io.settler.zerotrust.testkit;

import java.util.regex.Pattern;

/** Checks the names the testkit puts into SQL, ACL rules and certificates. */
final class Names {

    /** Valid as a PostgreSQL identifier, a Redis user name and a SPIFFE path segment. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}");

    private Names() {
    }

    static String check(String kind, String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(kind + " names must be 1 to 63 letters, digits, '_', '.' or '-', "
                    + "not starting with '.' or '-'; got " + (name == null ? "null" : "'" + name + "'"));
        }
        return name;
    }

    /** A PostgreSQL identifier, quoted (the name was {@linkplain #check checked}, so it holds no quote). */
    static String quoted(String name) {
        return "\"" + name + "\"";
    }
}
