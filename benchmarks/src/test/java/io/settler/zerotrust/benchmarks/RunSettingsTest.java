package io.settler.zerotrust.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

class RunSettingsTest {

    @Test
    void defaultsSuitATwoCoreMachine() {
        assertThat(RunSettings.fromEnvironment(Map.of())).isEqualTo(new RunSettings(1, 5, 2, 5, 2));
        assertThat(RunSettings.DEFAULTS.describe()).isEqualTo("1 fork, warmup 5 x 2 s, measurement 5 x 2 s");
    }

    @Test
    void environmentOverridesDefaults() {
        RunSettings settings = RunSettings.fromEnvironment(Map.of(
                "BENCH_FORKS", "2", "BENCH_ITERATIONS", " 10 ", "BENCH_WARMUP_SECONDS", ""));

        assertThat(settings).isEqualTo(new RunSettings(2, 5, 2, 10, 2));
    }

    @Test
    void commandLineFlagsWinOverSettings() throws Exception {
        CommandLineOptions commandLine = new CommandLineOptions("-f", "3", "-r", "7s", "Leaf");
        var builder = new OptionsBuilder().parent(commandLine);
        RunSettings.DEFAULTS.applyTo(builder, commandLine);
        Options options = builder.build();

        assertThat(options.getForkCount().get()).isEqualTo(3);
        assertThat(options.getMeasurementTime().get()).isEqualTo(TimeValue.seconds(7));
        assertThat(options.getWarmupIterations().get()).isEqualTo(5);
        assertThat(options.getMeasurementIterations().get()).isEqualTo(5);
        assertThat(options.getIncludes()).containsExactly("Leaf");
    }

    @Test
    void refusesValuesThatAreNotWholeNumbersInRange() {
        assertThatThrownBy(() -> RunSettings.fromEnvironment(Map.of("BENCH_ITERATIONS", "five")))
                .isInstanceOf(BenchmarkException.class)
                .hasMessage("BENCH_ITERATIONS must be a whole number, got 'five'");
        assertThatThrownBy(() -> RunSettings.fromEnvironment(Map.of("BENCH_ITERATION_SECONDS", "0")))
                .isInstanceOf(BenchmarkException.class)
                .hasMessage("BENCH_ITERATION_SECONDS must be at least 1, got 0");
    }
}
