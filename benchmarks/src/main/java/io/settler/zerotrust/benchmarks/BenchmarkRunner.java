package io.settler.zerotrust.benchmarks;

import io.settler.zerotrust.benchmarks.BenchmarkException.Reason;
import java.io.IOException;
import java.io.PrintStream;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.BenchmarkList;
import org.openjdk.jmh.runner.BenchmarkListEntry;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.format.OutputFormat;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * Runs the JMH benchmarks in this jar and prints each result beside its baseline from the same run.
 * Started by {@code bin/benchmarks [include regex]}; see {@code BENCHMARKS.md}.
 *
 * <p><b>Pairing convention.</b> Every benchmark class has exactly one {@code @Benchmark} method
 * named {@code baseline}: the reference implementation, measured in the same run. Each of its other
 * {@code @Benchmark} methods is compared with it, per mode and per combination of {@code @Param}
 * values. Selecting any method of a class also runs that class's baseline. The run fails, with a
 * message and a non-zero exit, if a class in the jar has no baseline (checked before anything runs)
 * or if any benchmark fails.
 *
 * <p><b>Reading the table.</b> The ratio is "times faster than the baseline": above 1 ours is
 * faster, whatever the mode ({@code ours / baseline} for throughput, {@code baseline / ours} for
 * time per operation).
 *
 * <p><b>Settings.</b> The arguments are JMH's own ({@code -h} lists them). Defaults: 1 fork, 5 warmup
 * iterations of 2 s, 5 measured iterations of 2 s, changed by the {@code BENCH_*} variables of
 * {@link RunSettings} or by the flags {@code -f -wi -w -i -r}. The settings apply to every benchmark
 * and override {@code @Fork}, {@code @Warmup} and {@code @Measurement} annotations. The raw results
 * are written as JMH JSON to the file given by {@code -rff} (default {@code jmh-result.json}).
 */
public final class BenchmarkRunner {

    private static final int FAILED = 1;
    private static final int USAGE = 2;

    private final Map<String, String> environment;
    private final PrintStream out;

    private BenchmarkRunner(Map<String, String> environment, PrintStream out) {
        this.environment = Map.copyOf(environment);
        this.out = Objects.requireNonNull(out, "out");
    }

    /**
     * Runs the selected benchmarks, prints the comparison table and exits: 0 on success, 1 if a
     * benchmark failed or broke the pairing convention, 2 for unusable arguments or settings.
     *
     * @param args JMH command-line options and include patterns, e.g. {@code LeafIssuance -i 10}
     */
    public static void main(String[] args) {
        int status;
        try {
            status = new BenchmarkRunner(System.getenv(), System.out).run(args);
        } catch (BenchmarkException e) {
            System.err.println("benchmarks: " + e.getMessage());
            status = e.reason() == Reason.BAD_SETTING ? USAGE : FAILED;
        }
        System.exit(status);
    }

    private int run(String... args) {
        CommandLineOptions commandLine;
        try {
            commandLine = new CommandLineOptions(args);
        } catch (CommandLineOptionException e) {
            throw new BenchmarkException(Reason.BAD_SETTING, e.getMessage() + " (-h lists the options)", e);
        }
        if (commandLine.shouldHelp() || commandLine.shouldList() || commandLine.shouldListWithParams()
                || commandLine.shouldListProfilers() || commandLine.shouldListResultFormats()) {
            return inform(commandLine);
        }

        ChainedOptionsBuilder options = new OptionsBuilder()
                .parent(commandLine)
                .resultFormat(ResultFormatType.JSON)
                .shouldFailOnError(true);
        RunSettings.fromEnvironment(environment).applyTo(options, commandLine);
        List<String> includes = commandLine.getIncludes().isEmpty() ? List.of(".*") : commandLine.getIncludes();
        Set<String> baselines = baselinesOfSelectedClasses(includes, commandLine.getExcludes());
        if (commandLine.getIncludes().isEmpty()) {
            options.include(".*");
        }
        for (String baseline : baselines) {
            options.include("^" + Pattern.quote(baseline) + "$");
        }

        Collection<RunResult> results;
        try {
            results = new Runner(options.build()).run();
        } catch (RunnerException e) {
            throw new BenchmarkException(Reason.BENCHMARK_FAILED, "a benchmark failed, so there is no comparison"
                    + " (JMH's output above shows which and why): " + e.getMessage(), e);
        }
        if (results.isEmpty()) {
            throw new BenchmarkException(Reason.BENCHMARK_FAILED, "JMH returned no results");
        }
        List<Comparison> comparisons = ComparisonTable.pair(
                results.stream().flatMap(run -> Measurement.from(run).stream()).collect(Collectors.toList()));
        out.println();
        out.println(conditions(results.iterator().next().getParams()));
        out.print(ComparisonTable.render(comparisons));
        out.println("\nRaw JMH results (JSON): " + commandLine.getResult().orElse("jmh-result.json"));
        return 0;
    }

    /**
     * Checks the pairing convention over every benchmark method in the jar (a method measured side by
     * side with others in a {@code @Group} counts as a method of its class), then returns, for each
     * class that {@code includes} and {@code excludes} select, the benchmark that measures its
     * baseline: the {@code baseline} method, or the group it belongs to.
     */
    private Set<String> baselinesOfSelectedClasses(List<String> includes, List<String> excludes) {
        OutputFormat silent = OutputFormatFactory.createFormatInstance(out, VerboseMode.SILENT);
        BenchmarkList list = BenchmarkList.defaultList();
        Set<BenchmarkListEntry> all = list.getAll(silent, List.of());
        ComparisonTable.requireBaselines(all.stream()
                .flatMap(entry -> methodsOf(entry).stream().map(method -> entry.getUserClassQName() + "." + method))
                .collect(Collectors.toList()));
        Set<String> selectedClasses = list.find(silent, includes, excludes).stream()
                .map(BenchmarkListEntry::getUserClassQName)
                .collect(Collectors.toSet());
        if (selectedClasses.isEmpty()) {
            throw new BenchmarkException(Reason.NO_MATCH, "no benchmark matches " + includes
                    + (excludes.isEmpty() ? "" : " once " + excludes + " are excluded") + "; -l lists the benchmarks");
        }
        return all.stream()
                .filter(entry -> selectedClasses.contains(entry.getUserClassQName()))
                .filter(entry -> methodsOf(entry).contains(ComparisonTable.BASELINE))
                .map(BenchmarkListEntry::getUsername)
                .collect(Collectors.toCollection(TreeSet::new));
    }

    /** The methods a benchmark measures: its own, or those of its {@code @Group}. */
    private static Collection<String> methodsOf(BenchmarkListEntry entry) {
        String username = entry.getUsername();
        return entry.getThreadGroupLabels().orElse(List.of(username.substring(username.lastIndexOf('.') + 1)));
    }

    private int inform(CommandLineOptions commandLine) {
        try {
            if (commandLine.shouldHelp()) {
                out.println("Usage: bin/benchmarks [JMH options] [include regex ...]");
                out.println("Defaults: " + RunSettings.DEFAULTS.describe() + "; change them with " + RunSettings.FORKS
                        + ", " + RunSettings.WARMUP_ITERATIONS + ", " + RunSettings.WARMUP_SECONDS + ", "
                        + RunSettings.ITERATIONS + ", " + RunSettings.ITERATION_SECONDS + " or JMH's options:");
                commandLine.showHelp();
            }
            if (commandLine.shouldList()) {
                new Runner(commandLine).list();
            }
            if (commandLine.shouldListWithParams()) {
                new Runner(commandLine).listWithParams(commandLine);
            }
            if (commandLine.shouldListProfilers()) {
                commandLine.listProfilers();
            }
            if (commandLine.shouldListResultFormats()) {
                commandLine.listResultFormats();
            }
            return 0;
        } catch (IOException e) {
            throw new BenchmarkException(Reason.BAD_SETTING, "cannot print JMH's help: " + e.getMessage(), e);
        }
    }

    private static String conditions(BenchmarkParams params) {
        return String.format("%s, JDK %s (%s %s), %d CPUs; %s, warmup %d x %s, measurement %d x %s, %s",
                LocalDate.now(ZoneOffset.UTC), params.getJdkVersion(), params.getVmName(), params.getVmVersion(),
                Runtime.getRuntime().availableProcessors(), count(params.getForks(), "fork"),
                params.getWarmup().getCount(), params.getWarmup().getTime(),
                params.getMeasurement().getCount(), params.getMeasurement().getTime(),
                count(params.getThreads(), "thread"));
    }

    private static String count(int n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
    }
}
