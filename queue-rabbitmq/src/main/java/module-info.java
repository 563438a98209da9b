/**
 * The queue's RabbitMQ transport: connections over TLS 1.3 with the library's {@code MtlsContext}
 * and SASL EXTERNAL, a publisher-confirmed {@code EnvelopeSender} and a manually acknowledged
 * {@code DeliverySource} on quorum queues. The RabbitMQ Java client is an automatic module with a
 * stable name (com.rabbitmq.client, from its manifest): javac's warnings about requiring it are suppressed.
 */
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"})
module io.settler.zerotrust.queue.rabbitmq {
    requires static transitive org.jspecify;
    requires transitive io.settler.zerotrust.core;
    requires transitive io.settler.zerotrust.queue;
    requires transitive com.rabbitmq.client;
    requires com.fasterxml.jackson.databind;

    exports io.settler.zerotrust.queue.rabbitmq;
}
