package io.settler.zerotrust.cli;

import static io.settler.zerotrust.cli.ZtProcess.zt;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ZtTest {

    @Test
    void helpListsTheCommandsAndExitCodes() throws Exception {
        ZtProcess.Result result = zt("--help");
        assertThat(result.exit()).as(result.toString()).isZero();
        assertThat(result.out()).contains("cert").contains("policy").contains("token").contains("ca")
                .contains("render").contains("Exit codes:");
    }

    @Test
    void anUnknownCommandIsAUsageError() throws Exception {
        ZtProcess.Result result = zt("drift", "postgres");
        assertThat(result.exit()).as(result.toString()).isEqualTo(2);
        assertThat(result.err()).contains("drift");
    }

    @Test
    void generatesACompletionScript() throws Exception {
        ZtProcess.Result result = zt("generate-completion");
        assertThat(result.exit()).as(result.toString()).isZero();
        assertThat(result.out()).contains("complete -F");
    }
}
