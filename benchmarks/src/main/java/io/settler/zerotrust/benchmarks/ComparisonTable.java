package io.settler.zerotrust.benchmarks;

import io.settler.zerotrust.benchmarks.BenchmarkException.Reason;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.openjdk.jmh.annotations.Mode;

/**
 * Pairs measurements with their class's {@code baseline} and renders the pairs as a text table.
 * Knows nothing of running JMH, so it is tested on hand-made measurements.
 */
final class ComparisonTable {

    /** The method name every benchmark class must have: the reference measured in the same run. */
    static final String BASELINE = "baseline";

    private ComparisonTable() {
    }

    /**
     * Checks, before anything runs, that every benchmark class has a {@code baseline} method and at
     * least one other method to compare with it.
     *
     * @param benchmarks fully qualified benchmark methods, e.g. {@code a.b.SomeBenchmark.baseline}
     * @throws BenchmarkException naming the first class that breaks the convention
     */
    static void requireBaselines(Collection<String> benchmarks) {
        Map<String, TreeSet<String>> methodsByClass = new TreeMap<>();
        for (String benchmark : benchmarks) {
            int dot = benchmark.lastIndexOf('.');
            methodsByClass.computeIfAbsent(benchmark.substring(0, dot), c -> new TreeSet<>())
                    .add(benchmark.substring(dot + 1));
        }
        methodsByClass.forEach((className, methods) -> {
            if (!methods.contains(BASELINE)) {
                throw noBaselineMethod(className);
            }
            if (methods.size() == 1) {
                throw nothingToCompare(className);
            }
        });
    }

    /**
     * Pairs every non-baseline measurement with the baseline of the same class, mode and
     * {@code @Param} values. Order: by class, then in the order measured, then by method.
     *
     * @throws BenchmarkException if a class or parameter combination lacks its baseline, a class has
     *     nothing but a baseline, or a method and its baseline report in different units
     */
    static List<Comparison> pair(Collection<Measurement> measurements) {
        Map<String, Map<Key, List<Measurement>>> byClass = new TreeMap<>();
        for (Measurement m : measurements) {
            byClass.computeIfAbsent(m.className(), c -> new LinkedHashMap<>())
                    .computeIfAbsent(new Key(m.mode(), m.params()), k -> new ArrayList<>())
                    .add(m);
        }
        List<Comparison> comparisons = new ArrayList<>();
        byClass.forEach((className, groups) -> {
            boolean hasBaseline = groups.values().stream().flatMap(List::stream).anyMatch(ComparisonTable::isBaseline);
            if (!hasBaseline) {
                throw noBaselineMethod(className);
            }
            boolean hasOthers = groups.values().stream().flatMap(List::stream).anyMatch(m -> !isBaseline(m));
            if (!hasOthers) {
                throw nothingToCompare(className);
            }
            groups.forEach((key, group) -> comparisons.addAll(pairGroup(className, key, group)));
        });
        return List.copyOf(comparisons);
    }

    private static List<Comparison> pairGroup(String className, Key key, List<Measurement> group) {
        Optional<Measurement> baseline = group.stream().filter(ComparisonTable::isBaseline).findFirst();
        if (baseline.isEmpty()) {
            throw new BenchmarkException(Reason.NO_BASELINE, simpleName(className) + " has results for "
                    + describe(key) + " but its baseline has none: the baseline must run in the same modes and"
                    + " with the same @Param values as the methods compared with it.");
        }
        List<Comparison> pairs = new ArrayList<>();
        group.stream()
                .filter(m -> !isBaseline(m))
                .sorted(Comparator.comparing(Measurement::method))
                .forEach(ours -> {
                    if (!ours.unit().equals(baseline.get().unit())) {
                        throw new BenchmarkException(Reason.UNIT_MISMATCH, simpleName(className) + "." + ours.method()
                                + " reports " + ours.unit() + " but its baseline reports " + baseline.get().unit()
                                + ": give both the same @OutputTimeUnit.");
                    }
                    pairs.add(new Comparison(baseline.get(), ours));
                });
        return pairs;
    }

    /**
     * Renders the comparisons as an aligned text table, preceded by how to read it. The params
     * column appears only when some benchmark has {@code @Param}s.
     */
    static String render(List<Comparison> comparisons) {
        boolean withParams = comparisons.stream().anyMatch(c -> !c.ours().params().isEmpty());
        List<List<String>> rows = new ArrayList<>();
        List<String> header = new ArrayList<>(List.of("benchmark"));
        if (withParams) {
            header.add("params");
        }
        header.addAll(List.of("baseline", "ours", "unit", "ratio", "verdict"));
        rows.add(header);
        for (Comparison c : comparisons) {
            List<String> row = new ArrayList<>();
            row.add(simpleName(c.ours().className()) + "." + c.ours().method());
            if (withParams) {
                row.add(params(c.ours()));
            }
            row.add(scoreWithError(c.baseline()));
            row.add(scoreWithError(c.ours()));
            row.add(c.ours().unit());
            row.add(String.format(Locale.ROOT, "%.2fx", c.ratio()));
            row.add(c.verdict().label());
            rows.add(row);
        }
        int baselineColumn = withParams ? 2 : 1;
        Set<Integer> rightAligned = Set.of(baselineColumn, baselineColumn + 1, baselineColumn + 3);
        StringBuilder out = new StringBuilder()
                .append("Each method beside its class's baseline from this run; scores are mean ± 99.9% confidence"
                        + " half-width.\n")
                .append("ratio > 1.00: ours is faster; < 1.00: ours is slower (ours/baseline for ops per time,"
                        + " baseline/ours for time per op).\n")
                .append("\"within error\": the two intervals overlap, so no difference is shown.\n\n");
        int[] widths = new int[header.size()];
        for (List<String> row : rows) {
            for (int i = 0; i < row.size(); i++) {
                widths[i] = Math.max(widths[i], row.get(i).length());
            }
        }
        for (List<String> row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.size(); i++) {
                String pad = " ".repeat(widths[i] - row.get(i).length());
                line.append(rightAligned.contains(i) ? pad + row.get(i) : row.get(i) + pad).append("  ");
            }
            out.append(line.toString().stripTrailing()).append('\n');
        }
        return out.toString();
    }

    /** A score with four significant digits (at most six decimals) and its error to the same decimals. */
    static String scoreWithError(Measurement m) {
        double magnitude = Math.abs(m.score());
        int decimals = magnitude == 0 || !Double.isFinite(magnitude)
                ? 3
                : Math.max(0, Math.min(6, 3 - (int) Math.floor(Math.log10(magnitude))));
        String format = "%." + decimals + "f";
        String error = Double.isNaN(m.error()) ? "?" : String.format(Locale.ROOT, format, m.error());
        return String.format(Locale.ROOT, format, m.score()) + " ± " + error;
    }

    private static String params(Measurement m) {
        return m.params().isEmpty() ? "-" : new TreeMap<>(m.params()).entrySet().stream()
                .map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(","));
    }

    private static boolean isBaseline(Measurement m) {
        return m.method().equals(BASELINE);
    }

    private static String describe(Key key) {
        return "mode " + key.mode().shortLabel()
                + (key.params().isEmpty() ? "" : " and " + new TreeMap<>(key.params()));
    }

    private static String simpleName(String className) {
        return className.substring(className.lastIndexOf('.') + 1);
    }

    private static BenchmarkException noBaselineMethod(String className) {
        return new BenchmarkException(Reason.NO_BASELINE, className + " has no @Benchmark method named '" + BASELINE
                + "'. Every benchmark class needs one: the reference implementation its other methods are"
                + " compared with in the same run (see BENCHMARKS.md).");
    }

    private static BenchmarkException nothingToCompare(String className) {
        return new BenchmarkException(Reason.NOTHING_TO_COMPARE, className + " has only its '" + BASELINE
                + "' method: add the @Benchmark method(s) to compare with it, or select them too.");
    }

    /** What a method and its baseline must share to be compared. */
    private record Key(Mode mode, Map<String, String> params) {
    }
}
