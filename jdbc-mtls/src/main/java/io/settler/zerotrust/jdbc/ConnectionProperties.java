package io.settler.zerotrust.jdbc;

import io.settler.zerotrust.jdbc.InsecureDataSourceException.Reason;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which pgjdbc properties a user may set on a {@link PostgresMtlsDataSource}: an allow-list of
 * harmless tuning properties; everything that touches TLS, authentication or the transport is set
 * by the data source alone, and asking for it is refused with the rule it would break.
 */
final class ConnectionProperties {

    /** Performance and behaviour settings that cannot weaken TLS, authentication or isolation. */
    private static final Set<String> HARMLESS = Set.of(
            "applicationname", "tcpkeepalive", "tcpnodelay",
            "preparethreshold", "preparedstatementcachequeries", "preparedstatementcachesizemib",
            "defaultrowfetchsize", "rewritebatchedinserts", "rewritebatchedinsertssize", "binarytransfer",
            "binarytransferenable", "binarytransferdisable", "stringtype", "currentschema", "autosave",
            "cleanupsavepoints", "preferquerymode", "maxresultbuffer", "maxsendbuffersize", "receivebuffersize",
            "sendbuffersize", "escapesyntaxcallmode", "quotereturningidentifiers", "hideunprivilegedobjects",
            "adaptivefetch", "adaptivefetchmaximum", "adaptivefetchminimum", "assumeminserverversion",
            "logservererrordetail", "logunclosedconnections", "databasemetadatacachefields",
            "databasemetadatacachefieldsmib", "disablecolumnsanitiser", "unknownlength", "readonlymode",
            "flushcacheonddl", "converttobooleannumeric", "sslresponsetimeout");

    private static final Set<String> FACTORIES = Set.of("sslfactory", "sslfactoryarg", "sslhostnameverifier");
    private static final Set<String> FILES = Set.of("sslcert", "sslkey", "sslrootcert", "sslpassword",
            "sslpasswordcallback", "pemkeyalgorithm");
    private static final Set<String> AUTHENTICATION = Set.of("password", "service", "authenticationpluginclassname",
            "jaasapplicationname", "jaaslogin", "kerberosservername", "usespnego", "gsslib", "sspiserviceclass",
            "gssusedefaultcreds", "gssresponsetimeout", "channelbinding", "requireauth", "scrammaxiterations");
    private static final Set<String> TRANSPORT = Set.of("socketfactory", "socketfactoryarg", "gssencmode",
            "sslnegotiation", "localsocketaddress", "connectexecutor", "connectexecutorarg", "replication",
            "protocolversion", "classloaderstrategy", "xmlfactoryfactory", "options", "groupstartupparameters",
            "loggerlevel", "loggerfile");
    /** Seconds, where 0 means "no limit": every wait is a builder setting, checked and rounded up. */
    private static final Set<String> TIMEOUTS = Set.of("connecttimeout", "sockettimeout", "logintimeout");
    private static final Set<String> ADDRESSING = Set.of("user", "pgdbname", "pghost", "pgport", "targetservertype",
            "loadbalancehosts", "hostrecheckseconds", "readonly", "querytimeout", "cancelsignaltimeout");

    private static final Pattern URL = Pattern.compile(
            "jdbc:postgresql://([A-Za-z0-9.\\-]+|\\[[0-9A-Fa-f:.]+\\])(?::([0-9]{1,5}))?/([^?/]+)(?:\\?(.*))?");

    private ConnectionProperties() {
    }

    /** Where a JDBC URL points, and the properties it carries. */
    record ParsedUrl(String host, Optional<Integer> port, String database, Map<String, String> properties) {
    }

    /**
     * Parses one plain {@code jdbc:postgresql://host[:port]/database[?k=v&...]}; the properties are
     * checked separately by {@link #check(String, String)}.
     */
    static ParsedUrl parseUrl(String url) {
        Matcher m = URL.matcher(url);
        if (!m.matches()) {
            // The URL without its parameters, which may hold a password.
            throw new InsecureDataSourceException(Reason.URL, "expected one plain jdbc:postgresql://host:port/database"
                    + " URL (one host, no Unix socket, no service); got " + io.settler.zerotrust.audit.LogSafe.text(
                    url.indexOf('?') < 0 ? url : url.substring(0, url.indexOf('?')) + "?..."));
        }
        Map<String, String> properties = new LinkedHashMap<>();
        if (m.group(4) != null && !m.group(4).isEmpty()) {
            for (String pair : m.group(4).split("&")) {
                int eq = pair.indexOf('=');
                String name = decode(eq < 0 ? pair : pair.substring(0, eq));
                String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
                properties.put(name, value);
            }
        }
        String host = m.group(1).startsWith("[") ? m.group(1).substring(1, m.group(1).length() - 1) : m.group(1);
        return new ParsedUrl(host, Optional.ofNullable(m.group(2)).map(Integer::valueOf), decode(m.group(3)),
                properties);
    }

    /**
     * Accepts a harmless property, or one that only restates our own TLS settings; refuses
     * everything else with the rule it would break.
     */
    static void check(String name, String value) {
        String key = name.toLowerCase(Locale.ROOT);
        String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
        if (key.equals("sslmode")) {
            if (v.equals("verify-full")) {
                return;
            }
            throw new InsecureDataSourceException(v.equals("disable") ? Reason.PLAINTEXT : Reason.SSL_MODE,
                    "sslmode=" + safe(value) + " is refused: only verify-full checks both the certificate chain and"
                            + " the server name (prefer and allow fall back to plaintext, require trusts any server);"
                            + " remove the setting, this data source always uses verify-full");
        }
        if (key.equals("ssl")) {
            if (v.equals("true") || v.isEmpty()) {
                return;
            }
            throw new InsecureDataSourceException(Reason.PLAINTEXT, "ssl=" + safe(value)
                    + " is refused: connections are always TLS 1.3 with a client certificate; remove the setting");
        }
        if (HARMLESS.contains(key)) {
            return;
        }
        if (FACTORIES.contains(key)) {
            throw refused(Reason.SSL_FACTORY, name, "TLS is done by this data source's own SSLContext (our trust"
                    + " manager verifies the server); a factory such as NonValidatingFactory would trust anyone");
        }
        if (FILES.contains(key)) {
            throw refused(Reason.KEY_FILES, name, "the client certificate and trust anchors come from the"
                    + " CredentialSource, never from files or ~/.postgresql");
        }
        if (AUTHENTICATION.contains(key)) {
            throw refused(Reason.PASSWORD_AUTHENTICATION, name, "the server authenticates this role by its client"
                    + " certificate only");
        }
        if (TRANSPORT.contains(key)) {
            throw refused(Reason.TRANSPORT, name, "the transport (socket factory, GSS encryption, startup"
                    + " options) is set by this data source; use the builder's settings instead");
        }
        if (TIMEOUTS.contains(key)) {
            throw refused(Reason.TRANSPORT, name, "the data source bounds every wait itself (0 here would mean no"
                    + " limit): use the builder's statementTimeout(Duration), socketTimeout(Duration) and"
                    + " connectionTimeout(Duration)");
        }
        if (ADDRESSING.contains(key)) {
            throw refused(Reason.URL, name, "host, port, database, role and read-only mode are builder settings");
        }
        throw refused(Reason.UNKNOWN_PROPERTY, name, "only known harmless tuning properties are accepted");
    }

    private static InsecureDataSourceException refused(Reason reason, String name, String why) {
        return new InsecureDataSourceException(reason, "the pgjdbc property '" + safe(name) + "' is refused: " + why);
    }

    private static String safe(String text) {
        return io.settler.zerotrust.audit.LogSafe.text(String.valueOf(text));
    }

    private static String decode(String text) {
        return URLDecoder.decode(text, StandardCharsets.UTF_8);
    }
}
