package io.settler.zerotrust.examples;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The demo's scenario runs in CI: every allowed call succeeds and every attack is refused. */
class DemoTest {

    @Test
    void everyExpectationOfTheDemoHolds() throws Exception {
        assertThat(Demo.runScenario()).as("expectations that failed").isEmpty();
    }
}
