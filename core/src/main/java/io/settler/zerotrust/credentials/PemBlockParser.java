package io.settler.zerotrust.credentials;

import java.io.IOException;
import java.io.Reader;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemObjectParser;
import org.jspecify.annotations.Nullable;

/**
 * Bouncy Castle's {@link PEMParser}, split in two steps: {@link #readPemObject()} frames the next
 * block (type, headers, base64 content) and {@link #decode} turns one block into BC's object for
 * it. {@link PEMParser#readObject()} does both at once and fails on a type it does not know, which
 * would stop us from skipping unrelated blocks or naming the block that is broken.
 */
final class PemBlockParser extends PEMParser {

    PemBlockParser(Reader reader) {
        super(reader);
    }

    /** A parser for decoding blocks read elsewhere. */
    static PemBlockParser decoder() {
        return new PemBlockParser(Reader.nullReader());
    }

    /**
     * Decodes a block with the parser {@link PEMParser} registers for its type, exactly as
     * {@link PEMParser#readObject()} would.
     *
     * @return BC's object for the block, or {@code null} when BC has no parser for the type
     * @throws IOException if the block's content is not what its type says
     */
    @Nullable Object decode(PemObject block) throws IOException {
        Object parser = parsers.get(block.getType());
        return parser instanceof PemObjectParser p ? p.parseObject(block) : null;
    }
}
