"""AMI client against a small fake AMI server on 127.0.0.1 (port 0), on a loop whose clock
jumps (``tests.fakes.virtual_time``): reconnect back-offs, pings and timeouts run in order
without the test waiting for them."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from pydantic import SecretStr

from cti.ami import (
    AmiActionError,
    AmiAuthError,
    AmiClient,
    AmiConnectionError,
    AmiHeaderError,
    AmiTimeout,
    Event,
)
from cti.ami.link import reconnect_delay
from cti.settings import AmiSettings
from tests.fakes.virtual_time import in_virtual_time

Action = dict[str, list[str]]
Reply = Callable[["Conn", Action], Awaitable[None]]


def frame(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class Conn:
    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer

    def send(self, *lines: str) -> None:
        self.writer.write(frame(*lines))

    def respond(self, action: Action, *lines: str, response: str = "Success") -> None:
        self.send(f"Response: {response}", f"ActionID: {action['actionid'][0]}", *lines)


class FakeAmi:
    """Just enough of Asterisk's AMI: greeting, md5/plain login, Ping, Logoff, Command; tests
    add or override actions in ``handlers``."""

    def __init__(self, username: str = "hotline", secret: str = "s3cret") -> None:
        self.username = username
        self.secret = secret
        self.actions: list[Action] = []
        self.handlers: dict[str, Reply] = {
            "challenge": self._challenge,
            "login": self._login,
            "ping": self._ping,
            "logoff": self._logoff,
        }
        self.conns: list[Conn] = []
        self._handlers: set[asyncio.Task[object]] = set()
        self.logins = 0
        self._challenge_token = "123456789"
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close the port and every connection; return when their handlers have ended."""
        assert self._server is not None
        self._server.close()
        self.drop_all()
        await self._server.wait_closed()
        await asyncio.gather(*self._handlers)

    def drop_all(self) -> None:
        for conn in self.conns:
            conn.writer.transport.abort()
        self.conns.clear()

    def names(self) -> list[str]:
        return [a["action"][0] for a in self.actions]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = Conn(writer)
        self.conns.append(conn)
        handler_task = asyncio.current_task()
        assert handler_task is not None
        self._handlers.add(handler_task)
        writer.write(b"Asterisk Call Manager/11.0.0\r\n")
        try:
            while True:
                raw = await reader.readuntil(b"\r\n\r\n")
                action: Action = {}
                for line in raw.decode().split("\r\n"):
                    if line:
                        key, _, value = line.partition(": ")
                        action.setdefault(key.lower(), []).append(value)
                self.actions.append(action)
                handler = self.handlers.get(action["action"][0].lower())
                if handler is not None:
                    await handler(conn, action)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.transport.abort()
            self._handlers.discard(handler_task)

    async def _challenge(self, conn: Conn, action: Action) -> None:
        conn.respond(action, f"Challenge: {self._challenge_token}")

    async def _login(self, conn: Conn, action: Action) -> None:
        if action.get("authtype") == ["md5"]:
            expected = hashlib.md5((self._challenge_token + self.secret).encode()).hexdigest()
            ok = action.get("key") == [expected]
        else:
            ok = action.get("secret") == [self.secret]
        ok = ok and action.get("username") == [self.username]
        self.logins += 1
        if ok:
            conn.respond(action, "Message: Authentication accepted")
            conn.send("Event: FullyBooted", "Privilege: system,all", "Status: Fully Booted")
        else:
            conn.respond(action, "Message: Authentication failed", response="Error")

    async def _ping(self, conn: Conn, action: Action) -> None:
        conn.respond(action, "Ping: Pong", "Timestamp: 1.0")

    async def _logoff(self, conn: Conn, action: Action) -> None:
        conn.respond(action, "Message: Thanks for all the fish.", response="Goodbye")
        conn.writer.close()


@contextlib.asynccontextmanager
async def fake_ami(port: int = 0) -> AsyncIterator[FakeAmi]:
    server = FakeAmi()
    server.port = port
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def make_settings(server: FakeAmi, **overrides: object) -> AmiSettings:
    values: dict[str, object] = {
        "port": server.port,
        "secret": "s3cret",
        "reconnect_min_s": 0.02,
        "reconnect_max_s": 0.1,
        "action_timeout_s": 2.0,
        "connect_timeout_s": 2.0,
        "ignore_events": [],
    }
    values.update(overrides)
    return AmiSettings.model_validate(values)


def our_tasks() -> set[asyncio.Task[object]]:
    """Every task but the fake server's connection handlers."""
    return {t for t in asyncio.all_tasks() if "FakeAmi._serve" not in repr(t.get_coro())}


async def eventually(check: Callable[[], bool], within_s: float = 3.0) -> None:
    """Poll what has no event to wait on (in virtual time: a wait costs no real time)."""
    async with asyncio.timeout(within_s):
        while not check():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


# -- login ------------------------------------------------------------------------------------


@in_virtual_time
async def test_md5_login_sends_key_not_secret() -> None:
    async with fake_ami() as ami:
        async with AmiClient(make_settings(ami, auth="md5")) as client:
            assert client.connected
        challenge, login = ami.actions[0], ami.actions[1]
        assert challenge["authtype"] == ["md5"]
        assert login["authtype"] == ["md5"] and login["events"] == ["on"]
        assert "secret" not in login and "key" in login
        assert ami.names()[-1] == "Logoff"


@in_virtual_time
async def test_plain_login() -> None:
    async with fake_ami() as ami:
        async with AmiClient(make_settings(ami, auth="plain"), events="call,agent") as client:
            assert client.connected
        login = ami.actions[0]
        assert login["action"] == ["Login"] and login["secret"] == ["s3cret"]
        assert login["events"] == ["call,agent"]


@in_virtual_time
async def test_auth_failure_raises_and_leaves_nothing_running(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with fake_ami() as ami:
        before = our_tasks()
        client = AmiClient(make_settings(ami, secret="wrong"))
        with pytest.raises(AmiAuthError):
            await client.start()
        assert not client.connected
        assert our_tasks() == before
        assert "wrong" not in caplog.text  # the secret is never logged


@in_virtual_time
async def test_auth_failure_after_reconnect_backs_off_without_storm() -> None:
    async with fake_ami() as ami:
        settings = make_settings(ami, reconnect_min_s=0.01, reconnect_max_s=5.0)
        async with AmiClient(settings) as client:
            ami.secret = "rotated"
            ami.drop_all()
            await eventually(lambda: ami.logins == 2)
            await asyncio.sleep(0.3)  # a storm would have retried dozens of times by now
            assert ami.logins == 2 and not client.connected


@in_virtual_time
async def test_connection_refused_on_start() -> None:
    async with fake_ami() as ami:
        settings = make_settings(ami)
        await ami.stop()
        with pytest.raises((AmiConnectionError, OSError)):
            await AmiClient(settings).start()


# -- actions ----------------------------------------------------------------------------------


@in_virtual_time
async def test_out_of_order_responses_match_by_action_id() -> None:
    async with fake_ami() as ami:
        held: list[Action] = []

        async def hold(conn: Conn, action: Action) -> None:
            held.append(action)

        async def release(conn: Conn, action: Action) -> None:
            conn.respond(action, "Message: second")
            conn.respond(held.pop(), "Message: first")

        ami.handlers |= {"hold": hold, "release": release}
        async with AmiClient(make_settings(ami)) as client:
            first = asyncio.create_task(client.action("Hold", Foo="1"))
            await eventually(lambda: bool(held))
            second = await client.action("Release")
            assert second.message == "second"
            assert (await first).message == "first"
            ids = [a["actionid"][0] for a in ami.actions]
            assert len(set(ids)) == len(ids)


@in_virtual_time
async def test_error_response_raises_unless_check_false() -> None:
    async with fake_ami() as ami:

        async def fail(conn: Conn, action: Action) -> None:
            conn.respond(action, "Message: No such channel", response="Error")

        ami.handlers["hangup"] = fail
        async with AmiClient(make_settings(ami)) as client:
            with pytest.raises(AmiActionError) as caught:
                await client.action("Hangup", {"Channel": "Local/x"})
            assert caught.value.response.message == "No such channel"
            response = await client.action("Hangup", Channel="Local/x", check=False)
            assert response.response == "Error"


@in_virtual_time
async def test_timeout_removes_the_pending_action() -> None:
    async with fake_ami() as ami:

        async def never(conn: Conn, action: Action) -> None:
            return None

        ami.handlers["blackhole"] = never
        async with AmiClient(make_settings(ami)) as client:
            with pytest.raises(AmiTimeout):
                await client.action("Blackhole", timeout=0.05)
            assert client._pending == {}
            assert client.stats.action_timeouts == 1
            assert (await client.action("Ping")).get("Ping") == "Pong"  # link still fine


@in_virtual_time
async def test_header_injection_is_refused_before_sending() -> None:
    async with fake_ami() as ami, AmiClient(make_settings(ami)) as client:
        sent = len(ami.actions)
        with pytest.raises(AmiHeaderError):
            await client.action("Originate", Channel="Local/1\r\nAction: Hangup")
        await client.action("Ping")
        assert ami.names()[sent:] == ["Ping"]


@in_virtual_time
async def test_action_when_not_connected_fails_fast() -> None:
    async with fake_ami() as ami:
        client = AmiClient(make_settings(ami))
        with pytest.raises(AmiConnectionError):
            await client.action("Ping")


@in_virtual_time
async def test_list_action_collects_events_until_complete() -> None:
    async with fake_ami() as ami:

        async def queue_status(conn: Conn, action: Action) -> None:
            aid = f"ActionID: {action['actionid'][0]}"
            conn.respond(action, "EventList: start", "Message: Queue status will follow")
            conn.send("Event: QueueParams", "Queue: sales", aid)
            conn.send("Event: Hangup", "Channel: Local/other")  # unrelated, interleaved
            conn.send("Event: QueueMember", "Queue: sales", "Name: agent1", aid)
            conn.send("Event: QueueStatusComplete", aid, "EventList: Complete", "ListItems: 2")

        ami.handlers["queuestatus"] = queue_status
        async with AmiClient(make_settings(ami)) as client, client.subscribe({"Hangup"}) as sub:
            result = await client.list_action("QueueStatus", Queue="sales")
            assert result.response.event_list == "start"
            assert [e.name for e in result.events] == ["QueueParams", "QueueMember"]
            assert result.complete is not None and result.complete.get("ListItems") == "2"
            hangup = await asyncio.wait_for(anext(sub), 1)
            assert hangup.get("Channel") == "Local/other"


@in_virtual_time
async def test_list_action_error_and_empty() -> None:
    async with fake_ami() as ami:

        async def refuse(conn: Conn, action: Action) -> None:
            conn.respond(action, "Message: Permission denied", response="Error")

        ami.handlers["status"] = refuse
        async with AmiClient(make_settings(ami)) as client:
            with pytest.raises(AmiActionError):
                await client.list_action("Status")
            result = await client.list_action("Status", check=False)
            assert result.events == [] and result.complete is None


@in_virtual_time
async def test_command_asterisk_22_output_and_legacy_follows() -> None:
    async with fake_ami() as ami:

        async def command(conn: Conn, action: Action) -> None:
            if action["command"] == ["core show version"]:
                conn.respond(
                    action,
                    "Message: Command output follows",
                    "Output: Asterisk 22.10.1",
                    "Output: x",
                )
            else:  # Asterisk <= 13: free text body with blank lines, ended by --END COMMAND--
                conn.writer.write(
                    (
                        "Response: Follows\r\nPrivilege: Command\r\n"
                        f"ActionID: {action['actionid'][0]}\r\n"
                        "Name: a\n\nName: b\n--END COMMAND--\r\n\r\n"
                    ).encode()
                )

        ami.handlers["command"] = command
        async with AmiClient(make_settings(ami)) as client:
            assert await client.command("core show version") == "Asterisk 22.10.1\nx"
            assert await client.command("sip show peers") == "Name: a\n\nName: b"
            assert await client.command("core show version") == "Asterisk 22.10.1\nx"


# -- connection life cycle ---------------------------------------------------------------------


@in_virtual_time
async def test_disconnect_fails_pending_then_reconnects_and_resyncs() -> None:
    async with fake_ami() as ami:

        async def never(conn: Conn, action: Action) -> None:
            return None

        ami.handlers["blackhole"] = never
        resyncs: list[str] = []

        async def on_connect(client: AmiClient) -> None:
            resyncs.append((await client.action("Ping")).get("Ping") or "")

        async with AmiClient(make_settings(ami), on_connect=on_connect) as client:
            await eventually(lambda: len(resyncs) == 1)
            pending = asyncio.create_task(client.action("Blackhole", timeout=5))
            await eventually(lambda: "Blackhole" in ami.names())
            ami.drop_all()
            with pytest.raises(AmiConnectionError):
                await pending
            await client.wait_connected(timeout=3)
            await eventually(lambda: len(resyncs) == 2)
            assert client.stats.reconnects == 1
            assert (await client.action("Ping")).get("Ping") == "Pong"


@in_virtual_time
async def test_missed_pong_drops_and_reconnects() -> None:
    async with fake_ami() as ami, AmiClient(make_settings(ami, ping_interval_s=0.05)) as client:
        await eventually(lambda: "Ping" in ami.names())
        ami.handlers["ping"] = lambda conn, action: asyncio.sleep(0)  # pong never comes
        await eventually(lambda: client.stats.connects >= 2)
        assert ami.logins >= 2


def test_reconnect_delay_is_capped_exponential_with_jitter() -> None:
    assert reconnect_delay(1, 0.5, 30, rand=lambda: 1.0) == 0.5
    assert reconnect_delay(3, 0.5, 30, rand=lambda: 1.0) == 2.0
    assert reconnect_delay(3, 0.5, 30, rand=lambda: 0.0) == 1.0
    assert reconnect_delay(50, 0.5, 30, rand=lambda: 1.0) == 30
    assert 15 <= reconnect_delay(50, 0.5, 30) <= 30


# -- events -------------------------------------------------------------------------------------


@in_virtual_time
async def test_subscription_filters_by_name_and_predicate() -> None:
    async with fake_ami() as ami:

        async def burst(conn: Conn, action: Action) -> None:
            conn.send("Event: Newchannel", "Channel: a")
            conn.send("Event: MysteryEvent", "X: 1")  # unknown events pass through
            conn.send("Event: Hangup", "Channel: a")
            conn.respond(action)

        ami.handlers["burst"] = burst
        async with AmiClient(make_settings(ami)) as client:
            names = client.subscribe({"Hangup"})
            everything = client.events(lambda e: e.name != "FullyBooted")
            await client.action("Burst")
            assert (await anext(names)).name == "Hangup"
            got = [(await anext(everything)).name for _ in range(3)]
            assert got == ["Newchannel", "MysteryEvent", "Hangup"]
            assert client.stats.events_received >= 3


@in_virtual_time
async def test_slow_subscriber_never_blocks_the_reader() -> None:
    async with fake_ami() as ami:

        async def flood(conn: Conn, action: Action) -> None:
            for n in range(5000):
                conn.send("Event: Newexten", f"Seq: {n}")
            conn.respond(action)

        ami.handlers["flood"] = flood
        async with AmiClient(make_settings(ami)) as client:
            stuck = client.subscribe(maxsize=10)  # never consumed
            newest = client.subscribe(maxsize=10, overflow="drop_newest")
            # A reader blocked behind a full subscriber would never see the response: timeout.
            await client.action("Flood", timeout=5)
            assert (await client.action("Ping")).get("Ping") == "Pong"
            assert stuck.dropped == newest.dropped == 4990
            assert client.stats.events_dropped == 2 * 4990
            kept = [stuck.get_nowait() for _ in range(10)]
            assert [e.get("Seq") for e in kept if e] == [str(n) for n in range(4990, 5000)]
            first = newest.get_nowait()
            assert first is not None and first.get("Seq") == "0"


@in_virtual_time
async def test_ignore_events_setting_drops_before_dispatch() -> None:
    async with fake_ami() as ami:

        async def noisy(conn: Conn, action: Action) -> None:
            conn.send("Event: VarSet", "Variable: X")
            conn.send("Event: Hangup", "Channel: a")
            conn.respond(action)

        ami.handlers["noisy"] = noisy
        async with AmiClient(make_settings(ami, ignore_events=["VarSet"])) as client:
            sub = client.subscribe(lambda e: e.name != "FullyBooted")
            await client.action("Noisy")
            assert (await anext(sub)).name == "Hangup"
            ami.drop_all()  # codec counters are folded into stats when a connection ends
            await eventually(lambda: client.stats.events_ignored == 1)


@in_virtual_time
async def test_close_ends_subscriptions_and_leaks_no_tasks() -> None:
    async with fake_ami() as ami:
        before = our_tasks()

        async def ping(client: AmiClient) -> None:
            await client.action("Ping")

        client = AmiClient(make_settings(ami, ping_interval_s=0.05), on_connect=ping)
        await client.start()
        received: list[Event] = []

        async def consume() -> None:
            async for event in client.events():
                received.append(event)

        consumer = asyncio.create_task(consume())
        await asyncio.sleep(0.1)
        await client.close()
        await asyncio.wait_for(consumer, 1)  # the iterator ended
        assert our_tasks() == before
        assert not client.connected
        with pytest.raises(AmiConnectionError):
            await client.action("Ping")


@in_virtual_time
async def test_unsubscribe_via_context_manager() -> None:
    async with fake_ami() as ami, AmiClient(make_settings(ami)) as client:
        async with client.subscribe({"Hangup"}) as sub:
            pass
        assert sub.closed
        with contextlib.suppress(StopAsyncIteration):
            await anext(sub)
            pytest.fail("a closed subscription yields nothing")


@in_virtual_time
async def test_start_without_wait_keeps_trying_until_the_pbx_appears() -> None:
    # An engine starts before its PBX (both restarting after a power cut): no error, and the
    # client connects as soon as AMI listens.
    async with fake_ami() as gone:
        port = gone.port
    settings = AmiSettings(
        port=port, secret=SecretStr("s3cret"), reconnect_min_s=0.05, reconnect_max_s=0.1
    )
    client = AmiClient(settings)
    await client.start(wait=False)
    try:
        await asyncio.sleep(0.3)  # attempts every 0.05–0.1 s, each refused
        assert not client.connected
        async with fake_ami(port):
            await client.wait_connected(timeout=3)
            assert client.connected
            await client.close()
    finally:
        await client.close()
