"""The pupilguard mitmproxy addon: every prompt to a catalogued AI tool is allowed, redacted or blocked here.

For each request to a catalogued host: the allowlist gives the tool's status for the client's profile.
  blocked  -> refused with a notice (no scan needed);
  approved -> the adapter extracts the texts, a worker process scans them with the conversation's placeholders,
              then the request is forwarded untouched (allow), rewritten (redact; the rewritten request is read
              back before it leaves and must carry exactly the redacted texts) or refused (block);
  monitor  -> as approved, and every prompt is recorded (allowed ones too). Special-category data about someone is
              blocked; identifiers are redacted unless the tool says `monitor_identifiers: log_only`, when they go
              out as typed and the event says what would have been redacted.
Anything that cannot be read, is too big, or cannot be analysed in time is refused (fail closed). Every redact and
block becomes an event in the on-disk spool; every decision is counted in the metrics. Client WebSocket frames get
the same treatment, a blocked frame being dropped.

Over 350 lines on purpose: a request's whole path (which service, who, scan, redact, read back, record, notify,
refuse) reads top to bottom in one class; what it relies on lives apart (adapters, bodies, channels, responses).
"""
from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from mitmproxy import ctx, exceptions, http

from detectors.decision import Decision
from detectors.events import Event
from proxy import flowmeta, responses
from proxy.adapters import Extraction, Unreadable, extract_for, extract_ws
from proxy.adapters.images import ImageReader, reading_images
from proxy.allowlist_watch import AllowlistWatcher
from proxy.bodies import BodyError, BodyTooLarge, decode_request_body
from proxy.catalogue import Catalogue, normalise_host
from proxy.channels import Channels, KnownClean, ServiceCookies, masked_path
from proxy.conversations import Conversations
from proxy.metrics import Metrics
from proxy.notices import Notice, NoticeBoard, flow_browser_id
from proxy.settings import add_options
from proxy.spool import Spool, SpoolError
from proxy.workers import ScanPool

if TYPE_CHECKING:  # imported only when switched on: --proxyauth ldap:..., OCR
    from proxy.directory import GroupDirectory
    from proxy.ocr import Pictures

log = logging.getLogger("pupilguard.proxy")

# flow.metadata keys shared with the notices and restore addons
# Bodies bigger than this (a spreadsheet upload) are decoded, read and rewritten in a thread: parsing one can take
# a second, and on the event loop that second would stall everyone else's traffic.
_OFF_LOOP_BYTES = 8 * 1024
# Why a picture could not be read (proxy/ocr.py), each with its own words for the teacher
_PICTURE_REASONS = {"image_too_large", "image_unreadable", "image_too_many_frames", "ocr_timeout", "ocr_busy",
                    "ocr_unavailable", "pdf_too_many_scanned_pages"}


@dataclass
class _Who:
    client_addr: str
    user: str | None
    profile: str
    status: str


class PupilGuard:
    """Decisions on the wire. Collaborators are started by `pupilguard proxy` (proxy/commands/proxy.py) and passed
    in by `default_addons` (proxy/addons/__init__.py)."""

    def __init__(self, *, catalogue: Catalogue, allowlist: AllowlistWatcher, pool: ScanPool, spool: Spool,
                 metrics: Metrics, conversations: Conversations | None = None, notices: NoticeBoard | None = None,
                 directory: GroupDirectory | None = None, pictures: Pictures | None = None) -> None:
        self.catalogue, self.allowlist, self.pool, self.spool = catalogue, allowlist, pool, spool
        self.metrics, self.notices = metrics, notices
        self.directory = directory  # with --proxyauth ldap:..., else None
        self.pictures = pictures  # the text in images and scanned PDFs; None = not read
        self.conversations = conversations or Conversations()
        self.service_cookies, self.known_clean = ServiceCookies(), KnownClean()

    # ---- options -------------------------------------------------------------------------------------------
    def load(self, loader: Any) -> None:
        add_options(loader, "max_body", "time_budget_ms", "proxy_id", "log_allow", "forward_unrecorded",
                    # the school's look of the pages every addon may answer with (proxy/responses.py)
                    "school_name", "school_logo_url", "school_colour", "page_languages")

    def configure(self, updated: set[str]) -> None:
        if "pupilguard_max_body" in updated and ctx.options.pupilguard_max_body <= 0:
            raise exceptions.OptionsError("--max-body must be a positive number of bytes")
        if "pupilguard_time_budget_ms" in updated and ctx.options.pupilguard_time_budget_ms <= 0:
            raise exceptions.OptionsError("--time-budget-ms must be positive")

    # ---- which service ----------------------------------------------------------------------------------------
    def service_of(self, flow: http.HTTPFlow) -> Any:
        """The catalogued service this flow really goes to, or None.

        The connection's own names come first (CONNECT target, TLS server name): a Host header naming some other
        site must not let a prompt through unscanned to the intercepted AI service.
        """
        server_host = flow.server_conn.address[0] if flow.server_conn.address else None
        for host in (flow.request.host, flow.client_conn.sni, flow.server_conn.sni, server_host,
                     flow.request.pretty_host):
            if host:
                service = self.catalogue.for_host(str(host))
                if service is not None:
                    flow.metadata[flowmeta.HOST] = normalise_host(str(host))
                    return service
        return None

    def is_intercepted(self, flow: http.HTTPFlow) -> bool:
        """For the notices addon: is this flow's host one of ours (a catalogued AI service)?"""
        return self.service_of(flow) is not None

    # ---- HTTP ------------------------------------------------------------------------------------------------
    def requestheaders(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None:
            return
        service = self.service_of(flow)
        flow.metadata[flowmeta.TOOL] = service.id if service else None
        if service is None:
            return
        declared = flow.request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > ctx.options.pupilguard_max_body:
            # refuse before the body is even read
            try:
                self._refuse(flow, service, self._who(flow, service), Decision.failed("body_too_large"))
            except Exception as exc:  # noqa: BLE001 - see request()
                self._fail_closed(flow, service, exc)

    async def request(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None:
            return
        service = self.service_of(flow)
        if service is None:
            return
        try:
            await self._look_up_groups(flow)
            await self._decide(flow, service)
        except Exception as exc:  # noqa: BLE001 - mitmproxy would log it and forward the request: refuse instead
            self._fail_closed(flow, service, exc)

    async def _decide(self, flow: http.HTTPFlow, service: Any) -> None:
        request = flow.request
        size = len(request.raw_content or b"")  # big bodies are read and rewritten off the event loop
        who = self._who(flow, service)
        carries_prompt = self._carries_prompt(service, request.path)
        if who.status == "blocked":
            record = carries_prompt or responses.is_navigation(request)
            self._refuse(flow, service, who, Decision.failed("tool_blocked"), record=record)
            return
        # Not only the catalogued prompt paths: any body, and every other channel (path segments, query, headers,
        # cookies - see proxy/channels.py) of any request to an AI service is read: a path the catalogue does not
        # know, or a part of the request that is not the body, must not be a way round the scan.
        channels = Channels(request, service.id, self.service_cookies)
        scope = (self.pool.generation, service.id, who.profile)
        unread = [i for i, slot in enumerate(channels.slots) if not self.known_clean.seen(*scope, slot.text)]
        extraction: Extraction | None = None
        images = self.pictures.reader() if self.pictures is not None else None
        if carries_prompt or request.raw_content:
            got = await _off_loop(size, self._extract, request, service, images)
            if images is not None and images.pending and not isinstance(got, Decision):
                # pictures to read (OCR, in its own workers), then the body is read again with their text
                await self.pictures.read(images)
                got = await _off_loop(size, self._extract, request, service, images)
            if isinstance(got, Decision):  # on any path of an AI service, a body we cannot read does not leave
                self._refuse(flow, service, who, got)
                return
            extraction = got
        body_texts = extraction.texts if extraction is not None else []
        channel_texts = [channels.slots[i].text for i in unread]
        texts = body_texts + channel_texts
        if not texts:
            self._count(service.id, "allow")
            return
        browser = flow_browser_id(flow)
        conv_key = Conversations.key(service.id, who.client_addr, who.user,
                                     extraction.conversation if extraction is not None else None, browser)
        verdict, placeholders, ms = await self._scan(conv_key, texts, service, who)
        if verdict.action == "allow" and not verdict.entity_counts:
            for text in channel_texts:
                self.known_clean.add(*scope, text)

        if self._logs_only(verdict, service, who):
            verdict = _would_redact(verdict)
        if verdict.action == "block":
            self._refuse(flow, service, who, verdict, ms=ms)
            return
        if verdict.action == "redact":
            assert verdict.texts is not None
            new_body = verdict.texts[:len(body_texts)]
            new_channels = channels.texts
            for i, text in zip(unread, verdict.texts[len(body_texts):], strict=True):
                new_channels[i] = text
            rebuilt = extraction is not None and new_body != body_texts
            if rebuilt:
                body = await _off_loop(size, extraction.rebuild, new_body)
                for _ in range(16):  # pictures to redraw with the changed words filled (proxy/ocr.py)
                    if body is not None or images is None or not images.pending_renders:
                        break
                    await self.pictures.render(images)
                    body = await _off_loop(size, extraction.rebuild, new_body)
                if body is None:  # a file we can read but not rewrite (a PDF...): it cannot go out redacted
                    verdict = _with_reason(verdict, "unredactable_body")
                    if "scanned_pdf" in extraction.notes:  # the notice says why: scanned PDFs are not rewritten
                        verdict.reasons.insert(0, "scanned_pdf")
                    self._refuse(flow, service, who, verdict, ms=ms)
                    return
                _set_body(request, body)
                if images is not None and images.renders:  # the DPO's record says a picture was redrawn
                    verdict.reasons.append("picture_redacted")
            if not channels.rewrite(request, new_channels):  # a name in a header or cookie name
                self._refuse(flow, service, who, _with_reason(verdict, "unredactable_channel"), ms=ms)
                return
            if not await _off_loop(size, self._reads_back, request, service, new_body if rebuilt else None,
                                   new_channels, images):
                self._refuse(flow, service, who, _with_reason(verdict, "recheck_failed"), ms=ms)
                return
        if not self._let_out(flow, service, who, verdict, ms):
            self._refuse(flow, service, who, _with_reason(verdict, "not_recorded"), ms=ms)
            return
        # A reply may get back the values of the whole conversation (web apps keep the history server-side) only
        # when the map is this browser's own: its cookie and a conversation id. Anyone else behind the same address
        # (a terminal server, a school's NAT) gets back only what their own request carried.
        own_conversation = browser is not None and extraction is not None and extraction.conversation is not None
        restorable = placeholders if own_conversation and placeholders is not None and len(placeholders) \
            else _restricted(placeholders, verdict.placeholders_used)
        flow.metadata[flowmeta.PLACEHOLDERS] = restorable
        flow.metadata[flowmeta.RESTORE] = bool(restorable is not None
                                           and self.allowlist.current.restore_placeholders(service.id))

    def _fail_closed(self, flow: http.HTTPFlow, service: Any, exc: Exception) -> None:
        # the class name only: exception messages can quote request content
        log.error("decision failed; request refused", extra={"tool": service.id, "error": type(exc).__name__})
        try:
            self._refuse(flow, service, self._who(flow, service), Decision.failed("analysis_error"))
        except Exception:  # noqa: BLE001 - even recording failed: still refuse
            flow.response = http.Response.make(
                403, b'{"error": {"message": "pupilguard blocked this request: it could not be checked."}}',
                {"Content-Type": "application/json", "Cache-Control": "no-store"})

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        """Learn the cookies the service sets (they come back unread); stream event-stream replies as they come
        (the restore addon, before us, streams those it edits)."""
        service = self.service_of(flow) if flow.response is not None else None
        if service is not None and "set-cookie" in flow.response.headers:
            self.service_cookies.learn(service.id, flow.response)
        if flow.response is not None and not flow.response.stream \
                and "text/event-stream" in flow.response.headers.get("content-type", ""):
            flow.response.stream = True

    # ---- WebSocket -------------------------------------------------------------------------------------------
    async def websocket_message(self, flow: http.HTTPFlow) -> None:
        assert flow.websocket is not None
        message = flow.websocket.messages[-1]
        if not message.from_client:
            return
        service = self.service_of(flow)
        if service is None:
            return
        try:
            await self._look_up_groups(flow)
            await self._decide_frame(flow, service, message)
        except Exception as exc:  # noqa: BLE001 - never forward a frame we failed to judge
            message.drop()
            log.error("frame decision failed; frame dropped", extra={"tool": service.id, "error": type(exc).__name__})

    async def _decide_frame(self, flow: http.HTTPFlow, service: Any, message: Any) -> None:
        who = self._who(flow, service)
        if who.status == "blocked":  # the allowlist changed since the socket opened
            message.drop()
            self._record(flow, service, who, Decision.failed("tool_blocked"), "block")
            return
        if len(message.content) > ctx.options.pupilguard_max_body:
            message.drop()
            self._record(flow, service, who, Decision.failed("body_too_large"), "block", notify=True)
            return
        size = len(message.content)
        extraction = await _off_loop(size, extract_ws, service, message.content, flow.request.path)
        if isinstance(extraction, Unreadable):
            message.drop()
            self._record(flow, service, who, Decision(action="block", reasons=["unreadable_body", extraction.reason]),
                         "block", notify=True)
            return
        if not extraction.texts:
            return
        conv_key = Conversations.key(service.id, who.client_addr, who.user, extraction.conversation,
                                     flow_browser_id(flow))
        verdict, placeholders, ms = await self._scan(conv_key, extraction.texts, service, who)
        if self._logs_only(verdict, service, who):
            verdict = _would_redact(verdict)
        if verdict.action == "redact":
            assert verdict.texts is not None
            new = await _off_loop(size, extraction.rebuild, verdict.texts)
            if new is None:
                verdict = _with_reason(verdict, "unredactable_body")
            elif _texts_of(await _off_loop(size, extract_ws, service, new, flow.request.path)) != verdict.texts:
                # read back, as _reads_back does for HTTP bodies
                verdict = _with_reason(verdict, "recheck_failed")
            elif self._let_out(flow, service, who, verdict, ms):
                message.content = new
                return
            else:
                verdict = _with_reason(verdict, "not_recorded")
        elif verdict.action == "allow" and not self._let_out(flow, service, who, verdict, ms):
            verdict = _with_reason(verdict, "not_recorded")
        if verdict.action == "block":
            message.drop()
            self._record(flow, service, who, verdict, "block", ms=ms, notify=True)

    # ---- helpers ---------------------------------------------------------------------------------------------
    async def _look_up_groups(self, flow: http.HTTPFlow) -> None:
        """Once per flow (a WebSocket keeps its handshake's): the directory groups of the authenticated user."""
        if self.directory is not None and flowmeta.GROUPS not in flow.metadata:
            auth = flow.metadata.get("proxyauth")
            flow.metadata[flowmeta.GROUPS] = await self.directory.groups(auth[0] if auth else None)

    def _who(self, flow: http.HTTPFlow, service: Any) -> _Who:
        client_addr = str(flow.client_conn.peername[0]) if flow.client_conn.peername else ""
        auth = flow.metadata.get("proxyauth")
        user = auth[0] if auth else None
        allowlist = self.allowlist.current
        profile = allowlist.profile_for(client_addr, user, flow.metadata.get(flowmeta.GROUPS, ()))
        return _Who(client_addr, user, profile, allowlist.status(service.id, profile))

    async def _scan(self, conv_key: str, texts: list[str], service: Any, who: _Who) -> tuple[Decision, Any, float]:
        conversation = self.conversations.get(conv_key)
        total = 0.0
        for _ in range(3):
            start = conversation.placeholders
            before = start.__getstate__()
            result = await self.pool.scan(texts, tool=service.id, profile=who.profile, placeholders=start,
                                          budget_s=self._budget_s() - total / 1000,
                                          client=who.user or who.client_addr)
            total += result.total_ms
            if result.placeholders is None or conversation.merge(before, result.placeholders):
                verdict = result.decision
                conversation.trim(verdict.placeholders_used)
                break
        else:  # concurrent prompts of one conversation kept colliding: rather refuse than mislabel
            verdict = Decision.failed("analysis_error")
        self.metrics.detection_seconds.labels(service.id).observe(total / 1000)
        return verdict, conversation.placeholders, total

    @staticmethod
    def _carries_prompt(service: Any, path: str) -> bool:
        return service.adapter_for(path) is not None  # a prompt or upload path of the catalogue

    def _extract(self, request: http.Request, service: Any,
                 images: ImageReader | None = None) -> Extraction | Decision:
        """The texts of a prompt body, or the verdict refusing it (too big, unreadable). With `images`, the text
        of its pictures too (proxy/adapters/images.py)."""
        try:
            body = decode_request_body(request.raw_content or b"", request.headers.get("content-encoding"),
                                       ctx.options.pupilguard_max_body)
        except BodyTooLarge:
            return Decision.failed("body_too_large")
        except BodyError:
            return Decision.failed("unreadable_body")
        with reading_images(images):
            extraction = extract_for(service, body, request.headers.get("content-type", ""), request.path)
        if isinstance(extraction, Unreadable):
            # a picture too big or not read in time says so first (responses.py has the teacher's words)
            picture = [extraction.reason] if extraction.reason in _PICTURE_REASONS else []
            return Decision(action="block", reasons=[*picture, "unreadable_body", extraction.reason])
        return extraction

    def _reads_back(self, request: http.Request, service: Any, body_texts: list[str] | None,
                    channel_texts: list[str], images: ImageReader | None = None) -> bool:
        """Does the rewritten request, read again exactly as the original was read, carry exactly the texts the
        engine approved (`body_texts`: None if the body was not rewritten)? The adapters read every string of a
        body, so a rebuild that wrote a text to the wrong place, or left an original value anywhere, fails here."""
        if body_texts is not None and _texts_of(self._extract(request, service, images)) != body_texts:
            return False
        return Channels(request, service.id, self.service_cookies).texts == channel_texts

    def _budget_s(self) -> float:
        return ctx.options.pupilguard_time_budget_ms / 1000

    def _refuse(self, flow: http.HTTPFlow, service: Any, who: _Who, verdict: Decision, *, ms: float = 0.0,
                record: bool = True) -> None:
        allowlist = self.allowlist.current
        approved = self._approved_names(who.profile)
        refusal = responses.Refusal(tool=service.name, reasons=verdict.reasons, entities=verdict.entity_counts,
                                    approved_tools=approved, policy_url=allowlist.policy_url)
        flow.response = responses.block_response(flow.request, service.error_shape, refusal)
        if record:
            self._record(flow, service, who, verdict, "block", ms=ms, notify=True)
        else:
            self._count(service.id, "block")

    def _let_out(self, flow: http.HTTPFlow, service: Any, who: _Who, verdict: Decision, ms: float) -> bool:
        """Count and record a prompt that leaves (allowed or redacted). False when its event could not be written:
        the caller then refuses it (unless --forward-unrecorded), so nothing leaves that the DPO cannot see."""
        if verdict.action == "allow" and not (ctx.options.pupilguard_log_allow or who.status == "monitor"):
            self._count(service.id, "allow")
            return True
        return self._record(flow, service, who, verdict, verdict.action, ms=ms, notify=True)

    def _logs_only(self, verdict: Decision, service: Any, who: _Who) -> bool:
        """A redaction that a monitored tool's `monitor_identifiers: log_only` turns into a record (never a block:
        special-category data about someone is refused whatever the tool's status)."""
        return verdict.action == "redact" and self.allowlist.current.logs_identifiers_only(service.id, who.profile)

    def _event_path(self, service: Any, who: _Who, path: str, verdict: Decision, action: str) -> str:
        """The path for the DPO's record: a catalogued endpoint in full (API routes and ids), any other page only
        by its first segment - page addresses can carry the words of a question (perplexity.ai/search/<slug>).
        Where something was found and the request was not rewritten, segments not known to be clean are masked."""
        bare = path.split("?", 1)[0]
        if verdict.entity_counts and action != "redact":
            scope = (self.pool.generation, service.id, who.profile)
            bare = masked_path(bare, lambda text: self.known_clean.seen(*scope, text))
        kind, _ = service.endpoint(path)
        if kind != "other":
            return bare[:500]
        first, _, rest = bare.lstrip("/").partition("/")
        return "/" + first[:64] + ("/…" if rest else "")

    def _approved_names(self, profile: str) -> list[str]:
        names = []
        for tool in self.allowlist.current.approved_tools(profile):
            svc = self.catalogue.service(tool)
            names.append(svc.name if svc is not None else tool)
        return names

    def _count(self, tool: str, action: str) -> None:
        self.metrics.requests.labels(tool, action).inc()

    def _record(self, flow: http.HTTPFlow, service: Any, who: _Who, verdict: Decision, action: str, *,
                ms: float = 0.0, notify: bool = False) -> bool:
        """Spool, count, log and notify one decision. False, with nothing counted or notified, when the event of
        a prompt that would leave could not be written and --forward-unrecorded is off: the caller refuses it."""
        event = Event(
            event_id=uuid.uuid4(), time=datetime.now(timezone.utc), proxy_id=ctx.options.pupilguard_proxy_id,
            client_addr=who.client_addr, user=who.user, profile=who.profile, tool=service.id,
            host=flow.metadata.get(flowmeta.HOST) or flow.request.pretty_host,
            path=self._event_path(service, who, flow.request.path, verdict, action), action=action,
            reasons=verdict.reasons, entities=verdict.entity_counts, excerpt=verdict.excerpt[:1000],
            pupil_refs=verdict.pupil_refs, analysis_ms=round(ms, 2))
        try:
            self.spool.put(event)
        except Exception as exc:  # noqa: BLE001 - a full disk must not take the proxy down: counted, refused
            reason = str(exc) if isinstance(exc, SpoolError) else type(exc).__name__
            self.metrics.events_not_recorded.labels(reason).inc()
            log.error("could not spool event", extra={"event_id": str(event.event_id), "error": reason,
                                                      "action": action})
            if action != "block" and not ctx.options.pupilguard_forward_unrecorded:
                return False
        self._count(service.id, action)
        log.info("decision", extra={"event_id": str(event.event_id), "tool": service.id, "action": action,
                                    "profile": who.profile, "reasons": verdict.reasons,
                                    "entities": verdict.entity_counts, "analysis_ms": round(ms, 1)})
        if notify and self.notices is not None and action in ("redact", "block"):
            self._notify(flow, service, who, verdict, action)
        return True

    def _notify(self, flow: http.HTTPFlow, service: Any, who: _Who, verdict: Decision, action: str) -> None:
        policy_url = self.allowlist.current.policy_url
        try:
            if action == "redact":
                notice = Notice.redacted(tool=service.name, entities=verdict.entity_counts, policy_url=policy_url)
            else:
                notice = Notice.blocked(tool=service.name, entities=verdict.entity_counts, reasons=verdict.reasons,
                                        policy_url=policy_url, approved_tools=self._approved_names(who.profile))
            self.notices.post(flow, notice)
        except Exception as exc:  # noqa: BLE001 - a notice is a courtesy; the decision already stands
            log.error("could not post notice", extra={"error": type(exc).__name__})


def _set_body(request: http.Request, body: bytes) -> None:
    """A rewritten body goes out uncompressed, with a correct Content-Length (see proxy/bodies.py)."""
    request.headers.pop("content-encoding", None)
    request.content = body


async def _off_loop(size: int, fn: Any, *args: Any) -> Any:
    return await asyncio.to_thread(fn, *args) if size > _OFF_LOOP_BYTES else fn(*args)


def _texts_of(extraction: Extraction | Unreadable | Decision) -> list[str] | None:
    return extraction.texts if isinstance(extraction, Extraction) else None


def _restricted(placeholders: Any, tokens: list[str]) -> Any:
    """Only the conversation's placeholders given to this request's own identifiers (`tokens`), or None."""
    if placeholders is None:
        return None
    restricted = placeholders.only(tokens)
    return restricted if len(restricted) else None


def _would_redact(verdict: Decision) -> Decision:
    """What a `monitor_identifiers: log_only` tool forwards: the prompt as typed, recorded as would_redact."""
    return Decision(action="allow", texts=None, reasons=["monitor_only", "would_redact", *verdict.reasons],
                   entity_counts=verdict.entity_counts, pupil_refs=verdict.pupil_refs, excerpt=verdict.excerpt)


def _with_reason(verdict: Decision, reason: str) -> Decision:
    return Decision(action="block", reasons=[reason, *verdict.reasons], entity_counts=verdict.entity_counts,
                   pupil_refs=verdict.pupil_refs, excerpt=verdict.excerpt)
