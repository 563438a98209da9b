package io.settler.zerotrust.cli;

import static io.settler.zerotrust.cli.ZtRun.inProcess;
import static io.settler.zerotrust.cli.ZtRun.process;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ZtTest {

    @Test
    void helpListsTheCommandsAndExitCodes() throws Exception {
        ZtRun.Result result = process("--help");
        assertThat(result.exit()).as(result.toString()).isZero();
        assertThat(result.out()).contains("cert").contains("policy").contains("token").contains("ca")
                .contains("render").contains("drift").contains("Exit codes:").contains("3   could not check");
    }

    @Test
    void anUnknownCommandIsAUsageError() throws Exception {
        ZtRun.Result result = inProcess("frobnicate");
        assertThat(result.exit()).as(result.toString()).isEqualTo(2);
        assertThat(result.err().strip()).doesNotContain("\n").contains("frobnicate");
    }

    @Test
    void generatesACompletionScript() throws Exception {
        ZtRun.Result result = process("generate-completion");
        assertThat(result.exit()).as(result.toString()).isZero();
        assertThat(result.out()).contains("complete -F");
    }
}
