package io.settler.zerotrust.examples.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * What the orders API accepts, for both of its servers (the hand-wired {@link ApiServer} and the Spring Boot
 * one): the body of {@code POST /orders}, its idempotency key and an order id, each refused with a
 * {@link BadRequest} that says what to send instead.
 */
public final class OrderRequests {

    /** The request header naming an order across the client's retries. */
    public static final String IDEMPOTENCY_KEY = "Idempotency-Key";
    /** The response header of a {@code POST} answered with the order an earlier one created. */
    public static final String REPLAYED = "Idempotent-Replayed";
    /** The error of a {@code 422}: an idempotency key sent again with another item. */
    public static final String KEY_REUSED = "this " + IDEMPOTENCY_KEY
            + " was sent before with another order; use a new key for a new order";
    /** The longest item accepted, in characters. */
    public static final int MAX_ITEM_LENGTH = 200;
    /** The longest idempotency key accepted, in characters. */
    public static final int MAX_KEY_LENGTH = 100;

    /** A request the API cannot make sense of: a {@code 400} with this message. */
    public static final class BadRequest extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BadRequest(String message) {
            super(message, null, false, false);
        }
    }

    private OrderRequests() {
    }

    /**
     * The request's idempotency key: none, or one of 1 to {@value #MAX_KEY_LENGTH} visible ASCII characters.
     *
     * @param sent the values of every {@value #IDEMPOTENCY_KEY} header of the request
     * @return the key, if one was sent
     * @throws BadRequest for several keys, or one that is empty, too long or not visible ASCII
     */
    public static Optional<String> idempotencyKey(List<String> sent) {
        if (sent.isEmpty()) {
            return Optional.empty();
        }
        String key = sent.get(0);
        if (sent.size() > 1 || key.isEmpty() || key.length() > MAX_KEY_LENGTH
                || !key.chars().allMatch(c -> c > ' ' && c < 0x7f)) {
            throw new BadRequest("send one " + IDEMPOTENCY_KEY + " of 1 to " + MAX_KEY_LENGTH
                    + " visible ASCII characters, e.g. a UUID");
        }
        return Optional.of(key);
    }

    /**
     * The item of a body {@code {"item": "..."}}, nothing more and nothing less.
     *
     * @param json the reader of the body
     * @param body the request's body
     * @return the item, 1 to {@value #MAX_ITEM_LENGTH} characters
     * @throws BadRequest for anything else
     */
    public static String item(ObjectMapper json, byte[] body) {
        JsonNode order;
        try {
            order = json.readTree(body);
        } catch (IOException e) {
            throw new BadRequest("the body is not JSON; send {\"item\": \"...\"}");
        }
        JsonNode item = order == null || !order.isObject() || order.size() != 1 ? null : order.get("item");
        if (item == null || !item.isTextual()) {
            throw new BadRequest("the body must be exactly {\"item\": \"...\"}");
        }
        String text = item.textValue();
        if (text.isBlank() || text.length() > MAX_ITEM_LENGTH) {
            throw new BadRequest("the item must be 1 to " + MAX_ITEM_LENGTH + " characters");
        }
        return text;
    }

    /**
     * An order id: a positive decimal number.
     *
     * @param text the id as the path gives it
     * @return the id
     * @throws BadRequest for anything else
     */
    public static long id(String text) {
        if (text.isEmpty() || text.length() > 18 || !text.chars().allMatch(c -> c >= '0' && c <= '9')
                || Long.parseLong(text) == 0) {
            throw new BadRequest("an order id is a positive decimal number");
        }
        return Long.parseLong(text);
    }
}
