package io.settler.zerotrust.spring;

import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.context.properties.source.ConfigurationPropertyState;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * Matches when any property under a prefix is set (in any form Boot binds: YAML, environment
 * variables, ...): the integration is then configured, and a setting it still needs is a start-up
 * failure rather than a silently missing bean.
 */
abstract class OnSettings extends SpringBootCondition {

    private final String prefix;

    OnSettings(String prefix) {
        this.prefix = prefix;
    }

    @Override
    public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
        ConfigurationPropertyName name = ConfigurationPropertyName.of(prefix);
        for (ConfigurationPropertySource source : ConfigurationPropertySources.get(context.getEnvironment())) {
            if (source.containsDescendantOf(name) == ConfigurationPropertyState.PRESENT) {
                return ConditionOutcome.match(prefix + ".* is set");
            }
        }
        return ConditionOutcome.noMatch("no " + prefix + ".* property");
    }
}
