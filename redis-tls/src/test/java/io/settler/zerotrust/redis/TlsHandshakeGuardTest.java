package io.settler.zerotrust.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.settler.zerotrust.audit.AuditEvent;
import io.settler.zerotrust.credentials.CredentialSource;
import io.settler.zerotrust.credentials.TlsIdentity;
import io.settler.zerotrust.credentials.TrustBundle;
import io.settler.zerotrust.pki.DevCertificateAuthority;
import io.settler.zerotrust.pki.IssuedCertificate;
import io.settler.zerotrust.testkit.RecordingAuditLog;
import io.settler.zerotrust.tls.MtlsContext;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

/**
 * The guard closes a channel whose handshake ended on a protocol that is not allowed. A real
 * server cannot make our TLS 1.3-only client negotiate anything else, so the refusal is driven
 * here on an in-memory channel whose engine never negotiated at all (protocol "NONE").
 */
class TlsHandshakeGuardTest {

    @Test
    void refusesChannelThatDidNotNegotiateAnAllowedProtocol() throws Exception {
        RecordingAuditLog audit = RecordingAuditLog.logging();
        TlsHandshakeGuard guard = guard(audit);
        SSLEngine engine = SSLContext.getDefault().createSSLEngine("localhost", 6380);
        engine.setUseClientMode(true);
        EmbeddedChannel channel = new EmbeddedChannel();
        channel.pipeline().addLast(new SslHandler(engine));
        guard.afterChannelInitialized(channel);

        channel.pipeline().context(SslHandler.class).fireUserEventTriggered(SslHandshakeCompletionEvent.SUCCESS);

        assertThat(channel.isOpen()).isFalse();
        assertThatThrownBy(channel::checkException).isInstanceOf(SSLHandshakeException.class)
                .hasRootCauseInstanceOf(RedisTlsException.class);
        AuditEvent refused = audit.withAction(RedisAudit.TLS_REFUSED).get(0); // then the close fails the handshake
        assertThat(refused.fields()).containsEntry("reason", "PROTOCOL_NOT_ALLOWED");
        assertThat(refused.elapsed()).as("a refused handshake is timed").isNotNull();
        assertThat(audit.withAction("redis.tls.handshake")).isEmpty();
    }

    @Test
    void refusesChannelWithoutTls() {
        RecordingAuditLog audit = RecordingAuditLog.logging();
        TlsHandshakeGuard guard = guard(audit);
        EmbeddedChannel channel = new EmbeddedChannel();
        guard.afterChannelInitialized(channel);
        assertThat(channel.isOpen()).isFalse();
        assertThat(audit.single(RedisAudit.TLS_REFUSED).fields()).containsEntry("reason", "CONNECTION_FAILED");
    }

    private static TlsHandshakeGuard guard(RecordingAuditLog audit) {
        DevCertificateAuthority ca = DevCertificateAuthority.create("guard.test");
        IssuedCertificate client = ca.leaf("guard").client().issue();
        MtlsContext tls = MtlsContext.client(CredentialSource.fixed(TlsIdentity.of(client.privateKey(), client.chain()),
                TrustBundle.of(List.of(ca.rootCertificate())))).auditLog(audit).build();
        return new TlsHandshakeGuard(Set.of(HardenedRedis.TLS13), tls, audit);
    }
}
