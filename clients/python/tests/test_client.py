"""The Python client against a real gateway (tests/gateway.py starts one)."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import stopgate_client as sc  # noqa: E402
from gateway import Gateway, free_port, make_certificate  # noqa: E402

WAIT = 20  # seconds: a bound on awaits that a broken client would never see end



async def until(condition, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {WAIT} s: {what}")
        await asyncio.sleep(0.005)


CONSENT_SOURCE = {"method": "web_form", "url": "https://acme.example/join", "text": "I agree to texts from Acme."}


_shared: Gateway | None = None


def setUpModule() -> None:
    global _shared
    _shared = Gateway(max_batch=50, max_in_flight=16)


def tearDownModule() -> None:
    if _shared is not None:
        _shared.stop()


class GatewayTest(unittest.IsolatedAsyncioTestCase):
    """Tests sharing one gateway (max_batch 50, max_in_flight 16)."""

    async def asyncSetUp(self) -> None:
        assert _shared is not None
        self.gw = _shared
        # The runner's debug mode records a traceback per task: ten times slower for thousands of calls.
        asyncio.get_running_loop().set_debug(False)

    async def client(self, **options) -> sc.Client:
        options.setdefault("key", self.gw.key)
        options.setdefault("max_batch", self.gw.max_batch)
        c = sc.Client("127.0.0.1", self.gw.port, **options)
        await c.connect()
        self.addAsyncCleanup(c.close)
        return c


class Transports(GatewayTest):
    async def test_tcp_tls_and_unix_socket_each_answer_ping(self) -> None:
        tcp = await self.client()
        self.assertEqual((await tcp.ping())["pong"], True)

        tls = sc.Client("127.0.0.1", self.gw.tls_port, ca_file=str(self.gw.cert), key=self.gw.key)
        await tls.connect()
        self.addAsyncCleanup(tls.close)
        self.assertEqual((await tls.ping())["pong"], True)

        unix = sc.Client(unix_path=self.gw.unix_path, key=self.gw.key)
        await unix.connect()
        self.addAsyncCleanup(unix.close)
        self.assertEqual((await unix.ping())["pong"], True)

    async def test_tls_refuses_a_certificate_the_ca_file_did_not_sign_unless_verify_is_off(self) -> None:
        other_cert, _ = make_certificate(self.gw.dir, "other")
        c = sc.Client("127.0.0.1", self.gw.tls_port, ca_file=str(other_cert), key=self.gw.key)
        with self.assertRaises(sc.StopgateConnectionError) as e:
            await c.connect()
        self.assertEqual(e.exception.code, sc.NOT_CONNECTED)
        self.assertIsInstance(e.exception.__cause__, ssl.SSLCertVerificationError)

        unverified = sc.Client("127.0.0.1", self.gw.tls_port, tls=True, verify=False, key=self.gw.key)
        await unverified.connect()
        self.addAsyncCleanup(unverified.close)
        self.assertEqual((await unverified.ping())["pong"], True)

    async def test_nothing_listening_is_not_connected(self) -> None:
        c = sc.Client("127.0.0.1", free_port(), connect_timeout=5)
        with self.assertRaises(sc.StopgateConnectionError) as e:
            await c.connect()
        self.assertEqual(e.exception.code, sc.NOT_CONNECTED)


class Auth(GatewayTest):
    async def test_a_configured_key_authenticates_on_connect(self) -> None:
        c = await self.client()
        self.assertEqual((await c.lookup("2125552642"))["to"], "+12125552642")

    async def test_explicit_auth_names_the_key_and_its_roles(self) -> None:
        c = await self.client(key=None)
        who = await c.auth(self.gw.key)
        self.assertEqual(who, {"key": "t", "roles": ["check", "send", "consent", "admin"]})
        self.assertEqual((await c.ping())["pong"], True)

    async def test_a_wrong_key_fails_connect_with_unauthenticated(self) -> None:
        c = sc.Client("127.0.0.1", self.gw.port, key="sg_not-a-key")
        with self.assertRaises(sc.StopgateError) as e:
            await c.connect()
        self.assertEqual(e.exception.code, "unauthenticated")
        self.assertNotIsInstance(e.exception, sc.StopgateConnectionError)

    async def test_a_request_before_auth_is_unauthenticated(self) -> None:
        c = await self.client(key=None, reconnect=False)
        with self.assertRaises(sc.StopgateError) as e:
            await c.ping()
        self.assertEqual(e.exception.code, "unauthenticated")

    async def test_a_key_without_the_role_is_forbidden(self) -> None:
        c = await self.client(key=self.gw.check_key)
        with self.assertRaises(sc.StopgateError) as e:
            await c.optout("2125552643", sender="acme")
        self.assertEqual(e.exception.code, "forbidden")
        self.assertEqual((await c.check("2125552643", sender="acme"))["to"], "+12125552643")


class Pipelining(GatewayTest):
    async def test_answers_out_of_order_reach_their_own_request(self) -> None:
        c = await self.client()
        numbers = [f"+1212555{n:04d}" for n in range(2650, 2655)]
        # With Redis stopped the checks cannot be answered; the pings after them can.
        self.gw.freeze(self.gw.redis)
        try:
            checks = [asyncio.ensure_future(c.check(n, sender="acme")) for n in numbers]
            pings = await asyncio.gather(*(c.ping() for _ in range(3)))
            self.assertEqual([p["pong"] for p in pings], [True] * 3)
            self.assertFalse(any(t.done() for t in checks))
        finally:
            self.gw.thaw(self.gw.redis)
        results = await asyncio.gather(*checks)
        self.assertEqual([r["to"] for r in results], numbers)

    async def test_many_concurrent_calls_each_get_their_own_answer(self) -> None:
        c = await self.client()
        numbers = [f"+1312555{n:04d}" for n in range(2000, 2400)]
        results = await asyncio.gather(*(c.lookup(n) for n in numbers))
        self.assertEqual([r["to"] for r in results], numbers)


class Batches(GatewayTest):
    async def test_check_many_splits_into_batches_the_gateway_accepts_and_keeps_order(self) -> None:
        c = await self.client()
        numbers = [f"212555{n:04d}" for n in range(2000, 2123)]
        numbers[60] = "12"  # an invalid number gets its own deny; the batch goes on
        with self.assertRaises(sc.StopgateError) as e:
            await c.check(numbers, sender="acme")  # one request over the limit
        self.assertEqual(e.exception.code, "batch_too_large")

        results = await c.check_many(numbers, sender="acme", window=2)
        self.assertEqual(len(results), 123)
        expected = ["+1" + n if n != "12" else "12" for n in numbers]
        self.assertEqual([r["to"] for r in results], expected)
        self.assertEqual(results[60]["reasons"], ["invalid_number"])

    async def test_iter_check_reads_a_generator_lazily(self) -> None:
        c = await self.client()
        taken = 0

        def numbers():
            nonlocal taken
            for n in range(1000):
                taken += 1
                yield f"646555{n + 2000:04d}"

        it = c.iter_check(numbers(), sender="acme", chunk_size=50, window=2)
        first = await it.__anext__()
        self.assertEqual(first["to"], "+16465552000")
        self.assertLessEqual(taken, 150)  # at most window batches read (plus one being cut)
        await it.aclose()


class Errors(GatewayTest):
    async def test_error_answers_raise_with_the_gateways_code_and_message(self) -> None:
        c = await self.client()
        with self.assertRaises(sc.StopgateError) as e:
            await c.optout("12", sender="acme")
        self.assertEqual(e.exception.code, "invalid_number")
        self.assertEqual(e.exception.op, "optout")

        with self.assertRaises(sc.StopgateError) as e:
            await c.consent("2125552660", sender="acme", kind="express_written",
                            captured_at=dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc),
                            source={"method": "web_form"})
        self.assertEqual(e.exception.code, "bad_request")
        self.assertIn("source.text", e.exception.message)

        with self.assertRaises(sc.StopgateError) as e:
            await c.request("reload")
        self.assertEqual(e.exception.code, "unknown_op")
        self.assertEqual((await c.ping())["pong"], True)  # the connection stays usable

    async def test_a_timed_out_call_keeps_its_slot_until_the_late_answer_arrives(self) -> None:
        c = await self.client()
        self.gw.freeze(self.gw.redis)  # the check cannot be answered until Redis runs again
        try:
            with self.assertRaises(sc.RequestTimeout) as e:
                await c.check("2125552662", sender="acme", timeout=0.2)
            self.assertEqual(e.exception.code, sc.TIMEOUT)
            self.assertEqual(c.in_flight, 1)
        finally:
            self.gw.thaw(self.gw.redis)
        await until(lambda: c.in_flight == 0, "the late answer frees the slot")
        self.assertTrue(c.connected)  # the late answer was matched and dropped, not taken as a stray
        self.assertEqual((await c.ping())["pong"], True)

    async def test_a_line_over_the_limit_is_refused_without_being_sent(self) -> None:
        c = await self.client(max_line_bytes=1024)
        with self.assertRaises(sc.StopgateError) as e:
            await c.optout("2125552661", sender="acme", source={"channel": "phone", "note": "x" * 2000})
        self.assertEqual(e.exception.code, "line_too_long")
        self.assertEqual((await c.lookup("2125552661"))["optouts"], [])


    async def test_an_answer_matching_no_request_ends_the_connection_instead_of_a_wait(self) -> None:
        # The client's limit is above the gateway's (256 KiB by default): the gateway answers the long line
        # with line_too_long and "id": null, which no call can claim.
        c = await self.client(max_line_bytes=1 << 20)
        with self.assertRaises(sc.StopgateConnectionError) as e:
            await asyncio.wait_for(
                c.optout("2125552663", sender="acme", source={"channel": "phone", "note": "x" * 300000}), WAIT
            )
        self.assertEqual(e.exception.code, sc.CONNECTION_LOST)
        self.assertIn("line_too_long", e.exception.message)
        self.assertEqual((await c.ping())["pong"], True)  # on a new connection
        self.assertEqual(c.reconnects, 1)


class Ops(GatewayTest):
    async def test_every_op_family_round_trips(self) -> None:
        c = await self.client()
        to = "2125552670"
        at = dt.datetime(2026, 12, 2, 17, 0, tzinfo=dt.timezone.utc)  # noon in New York, a Wednesday
        self.assertEqual((await c.check(to, sender="acme", at=at))["reasons"], ["no_consent"])
        cons = await c.consent(to, sender="acme", kind="express_written",
                               captured_at=dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc), source=CONSENT_SOURCE)
        self.assertTrue(cons["consent_id"].startswith("cn_"))
        self.assertEqual((await c.check(to, sender="acme", at=at))["decision"], "allow")
        self.assertIn("evidence_id", await c.optout(to, sender="acme", source={"channel": "phone"}))
        self.assertEqual((await c.check(to, sender="acme", at=at))["decision"], "deny")
        optin = await c.optin(to, sender="acme", kind="express_written", captured_at=dt.datetime.now(dt.timezone.utc),
                              source=CONSENT_SOURCE)
        self.assertTrue(optin["optout_lifted"])
        sent = await c.send(to, "hello", sender="acme")
        self.assertIn(sent["status"], ("sent", "deferred"))  # deferred at night in New York
        blocked = await c.send("2125552671", "hello", sender="acme", idempotency_key="py-ops-1")
        self.assertEqual(blocked["status"], "blocked")
        again = await c.send("2125552671", "hello", sender="acme", idempotency_key="py-ops-1")
        self.assertEqual((again["message_id"], again["idempotent_replay"]), (blocked["message_id"], True))
        self.assertEqual((await c.lookup(to))["consents"][0]["kind"], "express_written")
        self.assertIn("erased", await c.forget(to))
        self.assertIn("checks", await c.stats())


class Backpressure(GatewayTest):
    async def test_many_calls_with_a_small_in_flight_limit_all_complete_within_it(self) -> None:
        c = await self.client(max_in_flight=4)
        seen_in_flight = 0
        seen_buffered = 0

        async def one(n: int) -> str:
            nonlocal seen_in_flight, seen_buffered
            r = await c.check(f"+1415555{n + 3000:04d}", sender="acme")
            seen_in_flight = max(seen_in_flight, c.in_flight)
            seen_buffered = max(seen_buffered, c.write_buffer_size)
            return r["to"]

        tos = await asyncio.gather(*(one(n) for n in range(600)))
        self.assertEqual(tos, [f"+1415555{n + 3000:04d}" for n in range(600)])
        self.assertLessEqual(seen_in_flight, 4)
        self.assertLessEqual(seen_buffered, 4 * 100)  # 4 request lines at most

    async def test_more_outstanding_than_the_gateway_reads_all_complete(self) -> None:
        # The gateway stops reading past its max_in_flight (16); the client's writes wait.
        c = await self.client(max_in_flight=2000)
        tos = await asyncio.gather(*(c.check(f"+1617555{n + 5000:04d}", sender="acme") for n in range(1000)))
        self.assertEqual([r["to"] for r in tos], [f"+1617555{n + 5000:04d}" for n in range(1000)])


class Reconnect(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self) -> None:
        self.gw = Gateway()
        self.addCleanup(self.gw.stop)
        asyncio.get_running_loop().set_debug(False)

    async def test_after_the_gateway_dies_unsafe_calls_fail_safe_calls_are_retried(self) -> None:
        c = sc.Client("127.0.0.1", self.gw.port, key=self.gw.key, backoff_initial=0.02, backoff_max=0.2)
        await c.connect()
        self.addAsyncCleanup(c.close)
        self.assertEqual((await c.ping())["pong"], True)

        # Frozen, the gateway answers nothing: these three are outstanding when it dies.
        self.gw.freeze(self.gw.proc)
        ping = asyncio.ensure_future(c.ping())
        lookup = asyncio.ensure_future(c.lookup("2125552680"))
        optout = asyncio.ensure_future(c.optout("2125552680", sender="acme"))
        await until(lambda: c.in_flight == 3, "three requests outstanding")
        await asyncio.to_thread(self.gw.kill_gateway)

        with self.assertRaises(sc.StopgateConnectionError) as e:
            await asyncio.wait_for(optout, WAIT)
        self.assertEqual(e.exception.code, sc.CONNECTION_LOST)
        self.assertFalse(ping.done() or lookup.done())

        await asyncio.to_thread(self.gw.start)
        self.assertEqual((await asyncio.wait_for(ping, WAIT))["pong"], True)
        self.assertEqual((await asyncio.wait_for(lookup, WAIT))["to"], "+12125552680")
        self.assertEqual(c.reconnects, 1)
        self.assertEqual((await c.lookup("2125552680"))["optouts"], [])  # the lost optout was not repeated

    async def test_calls_made_while_the_gateway_restarts_wait_for_it(self) -> None:
        c = sc.Client("127.0.0.1", self.gw.port, key=self.gw.key, backoff_initial=0.02, backoff_max=0.2)
        await c.connect()
        self.addAsyncCleanup(c.close)
        await asyncio.to_thread(self.gw.stop_gateway)
        await until(lambda: not c.connected, "the client sees the connection end")
        optout = asyncio.ensure_future(c.optout("2125552681", sender="acme"))  # not sent until connected
        await asyncio.to_thread(self.gw.start)
        self.assertIn("evidence_id", await asyncio.wait_for(optout, WAIT))
        self.assertEqual(c.reconnects, 1)

    async def test_a_key_revoked_by_a_reload_ends_the_client_with_unauthenticated(self) -> None:
        c = sc.Client("127.0.0.1", self.gw.port, key=self.gw.key, backoff_initial=0.02, backoff_max=0.2)
        await c.connect()
        self.addAsyncCleanup(c.close)
        self.gw.revoke_key("t")

        async def revoked() -> sc.StopgateError:
            while True:  # until the gateway has applied the reload
                try:
                    await c.ping()
                except sc.StopgateError as e:
                    return e
                await asyncio.sleep(0.01)

        self.assertEqual((await asyncio.wait_for(revoked(), WAIT)).code, "unauthenticated")
        # The reconnect's auth is refused: the client ends instead of retrying.
        with self.assertRaises(sc.StopgateError) as e:
            await asyncio.wait_for(c.ping(), WAIT)
        self.assertEqual(e.exception.code, "unauthenticated")
        self.assertFalse(c.connected)

    async def test_without_reconnect_a_lost_connection_stays_down(self) -> None:
        c = sc.Client("127.0.0.1", self.gw.port, key=self.gw.key, reconnect=False)
        await c.connect()
        self.addAsyncCleanup(c.close)
        await asyncio.to_thread(self.gw.stop_gateway)
        await until(lambda: not c.connected, "the client sees the connection end")
        with self.assertRaises(sc.StopgateConnectionError) as e:
            await c.ping()
        self.assertEqual(e.exception.code, sc.NOT_CONNECTED)


if __name__ == "__main__":
    unittest.main()
