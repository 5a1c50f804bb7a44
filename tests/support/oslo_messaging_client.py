"""Real oslo.messaging clients for the RabbitMQ system tests; run by the Python of a service's
2026.1 virtualenv (which has oslo.messaging), with a config file cut from the operator's
rendering of that service (transport URLs, control exchange, [oslo_messaging_*] sections).

    python oslo_messaging_client.py CONF rpc-server TOPIC SERVER
    python oslo_messaging_client.py CONF rpc-client TOPIC SECONDS OUT   (one JSON line per call)
    python oslo_messaging_client.py CONF listen OUT                     (one line per notification)
    python oslo_messaging_client.py CONF notify COUNT OUT               (one line per acknowledged one)
    python oslo_messaging_client.py CONF declare                        (one RPC call, one notification)
    python oslo_messaging_client.py CONF probe                          (one RPC call, no retry: the error)
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


def main():
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
