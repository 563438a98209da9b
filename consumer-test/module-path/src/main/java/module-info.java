/** An application that uses every published Settler Zero Trust library module from the module path. */
module io.settler.zerotrust.consumer.modular {
    requires io.settler.zerotrust.core;
    requires io.settler.zerotrust.token;
    requires io.settler.zerotrust.netty;
    requires io.settler.zerotrust.jdbc;
    requires io.settler.zerotrust.redis;
    requires io.settler.zerotrust.queue;
    requires io.settler.zerotrust.micrometer;
    requires io.settler.zerotrust.queue.rabbitmq;
}
