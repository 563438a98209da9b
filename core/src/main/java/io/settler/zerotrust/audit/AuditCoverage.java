package io.settler.zerotrust.audit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Proof that a test suite makes every decision of a catalogue: test audit logs {@link #mark} each
 * event they see in a directory, one empty file per catalogue entry, and a test that runs last asks
 * for the {@link #unemitted} entries and fails on any. Also notes events with fields their entry
 * does not declare. Files live in a subdirectory per JVM, so a stale directory proves nothing.
 *
 * <p>For builds and tests, not for production; {@code testkit}'s {@code RecordingAuditLog} marks
 * every event when the system property {@value #DIRECTORY_PROPERTY} names a directory. Thread-safe.
 */
public final class AuditCoverage {

    /** The system property that names the coverage directory of a test run. */
    public static final String DIRECTORY_PROPERTY = "zerotrust.audit.coverage";
    private static final String UNDECLARED = "undeclared~";

    private final Path directory;
    private final Set<String> marked = ConcurrentHashMap.newKeySet();

    private AuditCoverage(Path directory) {
        this.directory = directory.resolve(Long.toString(ProcessHandle.current().pid()));
    }

    /** The coverage of this JVM in {@code directory}. */
    public static AuditCoverage in(Path directory) {
        return new AuditCoverage(Objects.requireNonNull(directory, "directory"));
    }

    /** The coverage of this JVM in the directory the system property {@value #DIRECTORY_PROPERTY} names, if set. */
    public static Optional<AuditCoverage> fromSystemProperty() {
        String directory = System.getProperty(DIRECTORY_PROPERTY);
        return directory == null || directory.isBlank() ? Optional.empty() : Optional.of(in(Path.of(directory)));
    }

    /** Notes that this event's entry was emitted, and any field its entry does not declare. */
    public void mark(AuditEvent event) {
        AuditAction kind = event.kind();
        touch(key(kind));
        List<String> declared = kind.definition().fields();
        for (String field : event.fields().keySet()) {
            if (!declared.contains(field)) {
                touch(UNDECLARED + key(kind) + "~" + field);
            }
        }
    }

    /**
     * What the suite has not shown: one line per entry of {@code catalogue} no event of this JVM
     * had, and per field an event carried that its entry does not declare. Empty when all is well.
     *
     * @throws IllegalStateException if nothing at all was marked, e.g. because this runs alone
     */
    public List<String> unemitted(Collection<? extends AuditAction> catalogue) {
        Set<String> seen;
        try (Stream<Path> files = Files.list(directory)) {
            seen = files.map(file -> file.getFileName().toString()).collect(java.util.stream.Collectors.toSet());
        } catch (IOException e) {
            throw new IllegalStateException("no audit coverage in " + directory + ": run the module's whole test"
                    + " suite (mvn verify) with -D" + DIRECTORY_PROPERTY + " set, not this test alone", e);
        }
        List<String> problems = new ArrayList<>();
        for (AuditAction entry : catalogue) {
            if (!seen.contains(key(entry))) {
                problems.add(entry + " (" + key(entry) + ") is never emitted by a test");
            }
        }
        for (String file : seen) {
            for (AuditAction entry : catalogue) {
                if (file.startsWith(UNDECLARED + key(entry) + "~")) {
                    problems.add(entry + " carries the undeclared field " + file.substring(
                            UNDECLARED.length() + key(entry).length() + 1));
                }
            }
        }
        return problems;
    }

    private static String key(AuditAction entry) {
        return entry.action() + "~" + entry.outcome();
    }

    private void touch(String name) {
        if (!marked.add(name)) {
            return;
        }
        try {
            Files.createDirectories(directory);
            Files.createFile(directory.resolve(name));
        } catch (FileAlreadyExistsException e) {
            // another log of this JVM marked it first
        } catch (IOException e) {
            throw new UncheckedIOException("cannot mark audit coverage in " + directory, e);
        }
    }
}
