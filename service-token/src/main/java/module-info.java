/**
 * Scoped JWT service tokens: minting and strict verification.
 *
 * <p>JJWT 0.13 ships plain jars: no descriptor and no Automatic-Module-Name, so its module names come
 * from the jar file names ({@code jjwt-api-0.13.0.jar} is {@code jjwt.api}), as Maven and Gradle
 * name them; keep those names on the module path. Only {@code jjwt.api} is required here. JJWT finds
 * its implementation ({@code jjwt-impl}) and JSON binding ({@code jjwt-jackson}) at run time by
 * reflection and ServiceLoader; being automatic modules too, they are resolved as soon as
 * {@code jjwt.api} is (an automatic module brings every automatic module of the module path), so an
 * application needs no {@code --add-modules}. No JJWT or Jackson type is in this module's API.
 * (jwtk/jjwt issue 519 asks JJWT for module names; until then javac's requires-automatic warning is
 * expected here, and suppressed.)
 */
@SuppressWarnings("requires-automatic")
module io.settler.zerotrust.token {
    // @NullMarked packages, @Nullable in the API: the annotations are part of what users compile against.
    requires static transitive org.jspecify;
    requires transitive io.settler.zerotrust.core;
    requires jjwt.api;
    requires com.fasterxml.jackson.databind;
    requires java.net.http;

    exports io.settler.zerotrust.token;
}
