"""Real oslo.messaging clients for the RabbitMQ system tests; run by the Python of a service's
2026.1 virtualenv (which has oslo.messaging), with a config file cut from the operator's
rendering of that service (transport URLs, control exchange, [oslo_messaging_*] sections).

    python oslo_messaging_client.py CONF rpc-server TOPIC SERVER
    python oslo_messaging_client.py CONF rpc-client TOPIC SECONDS OUT   (one JSON line per call)
    python oslo_messaging_client.py CONF listen OUT                     (one line per notification)
    python oslo_messaging_client.py CONF notify COUNT OUT               (one line per acknowledged one)
    python oslo_messaging_client.py CONF declare                        (one RPC call, one notification)
    python oslo_messaging_client.py CONF probe                          (one RPC call, no retry: the error)
    python oslo_messaging_client.py CONF rate TOPIC SECONDS THREADS     (RPC round trips per second)
    python oslo_messaging_client.py URL amqp-rate QUEUE_TYPE SECONDS PAIRS  (the same pattern in kombu)

oslo.messaging's reply waiter looks for replies every 0.5 s (amqpdriver.ReplyWaiters.get), so
its round-trip rate is bound by the clients, not the brokers; `amqp-rate` measures what the
brokers cost, with the queues declared as oslo.messaging declares them: a request queue and a
reply queue per caller, publisher confirms on, each reply awaited before the next request.
"""

import json
import sys
import threading
import time

import oslo_messaging
from oslo_config import cfg


class Echo:
    target = oslo_messaging.Target(version="1.0")

    def echo(self, ctxt, value):
        return value


class Recorder:
    def __init__(self, out):
        self.out = out
        self.lock = threading.Lock()

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        with self.lock:
            self.out.write(f"{payload['seq']}\n")
            self.out.flush()
        return oslo_messaging.NotificationResult.HANDLED


def amqp_rate(url, queue_type, seconds, pairs):
    import kombu

    arguments = {"x-queue-type": "quorum"} if queue_type == "quorum" else {}
    durable = queue_type == "quorum"
    deadline = time.monotonic() + seconds
    counts = []

    def pair(index):
        with kombu.Connection(url, transport_options={"confirm_publish": True}) as server, \
                kombu.Connection(url, transport_options={"confirm_publish": True}) as caller:
            request = kombu.Queue(f"bench-request-{index}", durable=durable, queue_arguments=arguments,
                                  channel=server.channel())
            reply = kombu.Queue(f"bench-reply-{index}", durable=durable, queue_arguments=arguments,
                                channel=caller.channel())
            request.declare()
            reply.declare()
            server_producer, caller_producer = server.Producer(), caller.Producer()
            received = []

            def serve(body, message):
                message.ack()
                server_producer.publish(body, routing_key=reply.name)

            def answered(body, message):
                message.ack()
                received.append(body)
            done = 0
            with server.Consumer(request, callbacks=[serve]), caller.Consumer(reply, callbacks=[answered]):
                while time.monotonic() < deadline:
                    caller_producer.publish({"n": done}, routing_key=request.name)
                    while not received:
                        server.drain_events(timeout=5)
                        caller.drain_events(timeout=5)
                    received.clear()
                    done += 1
            request.delete()
            reply.delete()
            counts.append(done)
    started = time.monotonic()
    threads = [threading.Thread(target=pair, args=(i,)) for i in range(pairs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps({"calls": sum(counts), "seconds": time.monotonic() - started}), flush=True)


def main():
    if sys.argv[2] == "amqp-rate":
        amqp_rate(sys.argv[1], sys.argv[3], float(sys.argv[4]), int(sys.argv[5]))
        return
    conf = cfg.CONF  # as the services do: some options are registered on the global object only
    conf(["--config-file", sys.argv[1]], project="ccp-test")
    command, args = sys.argv[2], sys.argv[3:]
    if command == "rpc-server":
        transport = oslo_messaging.get_rpc_transport(conf)
        server = oslo_messaging.get_rpc_server(transport, oslo_messaging.Target(topic=args[0], server=args[1]),
                                               [Echo()], executor="threading")
        server.start()
        while True:
            time.sleep(1)
    elif command == "rpc-client":
        transport = oslo_messaging.get_rpc_transport(conf)
        client = oslo_messaging.get_rpc_client(transport, oslo_messaging.Target(topic=args[0]), timeout=5)
        deadline = time.monotonic() + float(args[1])
        with open(args[2], "a") as out:
            n = 0
            while time.monotonic() < deadline:
                n += 1
                try:
                    ok = client.call({}, "echo", value=n) == n
                    out.write(json.dumps({"n": n, "ok": ok, "at": time.time()}) + "\n")
                except Exception as exc:  # noqa: BLE001 - recorded: the test counts failures and recovery
                    out.write(json.dumps({"n": n, "ok": False, "at": time.time(), "error": type(exc).__name__}) + "\n")
                out.flush()
    elif command == "listen":
        transport = oslo_messaging.get_notification_transport(conf)
        with open(args[0], "a") as out:
            listener = oslo_messaging.get_notification_listener(
                transport, [oslo_messaging.Target(topic="notifications")], [Recorder(out)], executor="threading")
            listener.start()
            while True:
                time.sleep(1)
    elif command == "notify":
        transport = oslo_messaging.get_notification_transport(conf)
        notifier = oslo_messaging.Notifier(transport, publisher_id="ccp.test", driver="messagingv2",
                                           topics=["notifications"])
        with open(args[1], "a") as out:
            for seq in range(1, int(args[0]) + 1):
                notifier.info({}, "ccp.test", {"seq": seq})  # returns once the brokers confirmed it
                out.write(f"{seq}\n")
                out.flush()
                time.sleep(0.005)
    elif command == "declare":
        rpc = oslo_messaging.get_rpc_transport(conf)
        oslo_messaging.get_rpc_client(rpc, oslo_messaging.Target(topic="ccp-test"), timeout=30).call(
            {}, "echo", value=1)
        oslo_messaging.Notifier(oslo_messaging.get_notification_transport(conf), publisher_id="ccp.test",
                                driver="messagingv2", topics=["notifications"]).info({}, "ccp.test", {"seq": 0})
        print("declared", flush=True)
        sys.exit(0)  # skip waiting for the executors' threads
    elif command == "rate":
        transport = oslo_messaging.get_rpc_transport(conf)
        client = oslo_messaging.get_rpc_client(transport, oslo_messaging.Target(topic=args[0]), timeout=30)
        client.call({}, "echo", value=0)  # warm up: queues declared, connections open
        deadline = time.monotonic() + float(args[1])
        counts = []

        def caller():
            done = 0
            while time.monotonic() < deadline:
                client.call({}, "echo", value=done)
                done += 1
            counts.append(done)
        started = time.monotonic()
        threads = [threading.Thread(target=caller) for _ in range(int(args[2]))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print(json.dumps({"calls": sum(counts), "seconds": time.monotonic() - started}), flush=True)
        sys.exit(0)
    elif command == "probe":
        transport = oslo_messaging.get_rpc_transport(conf)
        client = oslo_messaging.get_rpc_client(transport, oslo_messaging.Target(topic="ccp-probe"), timeout=5,
                                               retry=0)
        try:
            client.call({}, "echo", value=1)
        except Exception as exc:  # noqa: BLE001 - what the service would log is the point
            print(f"{type(exc).__name__}: {exc}", flush=True)
            sys.exit(1)
        print("ok", flush=True)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
