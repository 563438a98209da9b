package io.settler.zerotrust.spring;

import org.springframework.security.web.firewall.StrictHttpFirewall;

/**
 * The header names and values Spring Security's {@link StrictHttpFirewall} admits by default,
 * checked without its regular expression: every character assigned in Unicode and none a control
 * character, as its pattern {@code [\p{IsAssigned}&&[^\p{IsControl}]]*} says. The firewall matches
 * that pattern against each header the application reads, one character at a time, and a service
 * token in {@code Authorization} is several hundred characters long: in the starter's request
 * benchmark the pattern took more time than the token check. Printable ASCII, which a token is, takes
 * one comparison per character here.
 */
final class HeaderCharacters {

    private HeaderCharacters() {
    }

    /** A {@link StrictHttpFirewall} with its defaults, header names and values checked by {@link #allowed}. */
    static StrictHttpFirewall firewall() {
        StrictHttpFirewall firewall = new StrictHttpFirewall();
        firewall.setAllowedHeaderNames(HeaderCharacters::allowed);
        firewall.setAllowedHeaderValues(HeaderCharacters::allowed);
        return firewall;
    }

    /**
     * Whether {@code text} matches {@code [\p{IsAssigned}&&[^\p{IsControl}]]*}.
     *
     * @param text a header name or value
     * @return true if no character of it is unassigned or a control character
     */
    static boolean allowed(String text) {
        for (int i = 0; i < text.length(); ) {
            char c = text.charAt(i);
            if (c >= ' ' && c <= '~') {
                i++;
                continue;
            }
            int codePoint = text.codePointAt(i);
            int type = Character.getType(codePoint);
            if (type == Character.UNASSIGNED || type == Character.CONTROL) {
                return false;
            }
            i += Character.charCount(codePoint);
        }
        return true;
    }
}
