package io.settler.zerotrust.redis;

import java.util.Objects;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/** A password read from an environment variable on each call. */
final class EnvironmentPasswordSource implements PasswordSource {

    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");

    private final String variable;
    private final UnaryOperator<String> environment;

    /** @param environment looks a variable up; {@code System::getenv} outside tests */
    EnvironmentPasswordSource(String variable, UnaryOperator<String> environment) {
        Objects.requireNonNull(variable, "variable");
        if (!NAME.matcher(variable).matches()) {
            throw new RedisTlsException(RedisTlsException.Reason.INVALID_CONFIGURATION,
                    "an environment variable name is letters, digits and '_'; got '" + variable + "'");
        }
        this.variable = variable;
        this.environment = Objects.requireNonNull(environment, "environment");
    }

    @Override
    public char[] password() {
        String value;
        try {
            value = environment.apply(variable);
        } catch (SecurityException e) {
            throw new RedisTlsException(RedisTlsException.Reason.PASSWORD_UNREADABLE,
                    "this process may not read the environment variable " + variable);
        }
        if (value == null || value.isEmpty()) {
            throw new RedisTlsException(RedisTlsException.Reason.PASSWORD_MISSING, "the environment variable "
                    + variable + " is not set or empty; set it to the ACL user's password");
        }
        return value.toCharArray();
    }

    @Override
    public String toString() {
        return "PasswordSource.fromEnvironment[" + variable + "]";
    }
}
