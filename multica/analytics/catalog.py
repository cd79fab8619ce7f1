"""The event catalog: every event of the analytics contract, as data (SPEC §3–§7, D6).

Builders (`events.py`), validation (`schema.py`), the ingestion allow-list, the Prometheus pairing
(`multica.metrics.business`) and `docs/analytics.md` all derive from `CATALOG`. Event and property
names are a public contract: change the contract document first, then this module.
"""

from __future__ import annotations

from dataclasses import dataclass

# Categories (SPEC §4).
CORE_LOOP = "core_loop"
ONBOARDING = "onboarding_support"
ACQUISITION = "acquisition"
EXPANSION = "expansion"
OPS_FEEDBACK = "ops_feedback"
SYSTEM = "system/noise"
OPERATIONAL = "operational"

# Sinks and emitters.
POSTHOG = "posthog"
PROMETHEUS = "prometheus"
SERVER = "server"
FRONTEND = "frontend"
POSTHOG_SDK = "posthog"  # PostHog's own system events: listed, never emitted here

CORE_SOURCES = ("onboarding", "manual", "chat", "autopilot", "api")
PROVIDER_EXAMPLE = "claude, codex, cursor, …"

# Keys that never appear in any shipped event's properties (SPEC §5: emails, free text, names,
# company names, IP addresses, user agents). `$set_once.email` on `signup` is the one exception,
# and it lives in person properties, not here.
GLOBAL_FORBIDDEN = (
    "email",
    "invitee_email",
    "business_email",
    "waitlist_email",
    "cloud_waitlist_email",
    "name",
    "first_name",
    "last_name",
    "company_name",
    "message",
    "goals",
    "reason",
    "url",
    "team_size_other",
    "role_other",
    "use_case_other",
    "ip",
    "user_agent",
    "$user_agent",
    "$raw_user_agent",
)


@dataclass(frozen=True)
class Prop:
    """One event property: its type, and the closed set of values it may take."""

    name: str
    type: str  # string | uuid | bool | int | number | string[]
    description: str = ""
    allowed: tuple | None = None
    max_length: int | None = None


@dataclass(frozen=True)
class Label:
    """A Prometheus label: read from `prop` (or fixed by `value`), passed through `normalizer`."""

    name: str
    prop: str = ""
    normalizer: str = ""
    value: str | None = None


@dataclass(frozen=True)
class Metric:
    """The Prometheus counter an event increments through `record_event` (SPEC §7)."""

    name: str
    labels: tuple[Label, ...] = ()
    help: str = ""


@dataclass(frozen=True)
class EventSpec:
    """Everything the contract says about one event."""

    name: str
    category: str
    sink: str
    emitter: str
    description: str
    trigger: str
    distinct_id: str
    required: tuple[Prop, ...] = ()
    optional: tuple[Prop, ...] = ()
    set_keys: tuple[str, ...] = ()
    set_once_keys: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = ()
    workspace: str = "never"  # required | optional | never
    metric: Metric | None = None
    typed_metrics_only: bool = False  # no event object at all (agent tasks, SPEC §6.3)

    @property
    def props(self) -> dict[str, Prop]:
        """Declared properties by name (required first)."""
        return {p.name: p for p in self.required + self.optional}

    @property
    def metrics_only(self) -> bool:
        """Counted in Prometheus, never shipped to PostHog (SPEC §2.10)."""
        return self.sink == PROMETHEUS


def _uuid(name: str, description: str = "") -> Prop:
    return Prop(name, "uuid", description)


def _flag(name: str, description: str = "") -> Prop:
    return Prop(name, "bool", description)


def _enum(name: str, values: tuple, description: str = "") -> Prop:
    return Prop(name, "string", description, allowed=values)


def _label(name: str, normalizer: str, prop: str | None = None) -> Label:
    return Label(name=name, prop=prop or name, normalizer=normalizer)


TEAM_SIZES = ("solo", "team", "other")
ROLES = ("developer", "product_lead", "writer", "founder", "other")
USE_CASES = ("coding", "planning", "writing_research", "explore", "other")
COMPLETION_PATHS = ("full", "runtime_skipped", "cloud_waitlist", "skip_existing", "invite_accept", "unknown")
AGENT_TEMPLATES = ("coding", "planning", "writing", "assistant")
TEMPLATES = (*AGENT_TEMPLATES, "")  # `""`: an agent not created from the picker
RUNTIME_MODES = ("local", "cloud")
COMPANY_SIZES = ("1-10", "11-50", "51-200", "201-500", "501-1000", "1000+")
SALES_USE_CASES = ("evaluate", "adopt_team", "self_host", "integrate", "partner", "other")
# Where the contact-sales form was shown (request `source`); anything else travels as `other`.
CONTACT_SALES_FORM_SOURCES = ("page", "onboarding", "agents_page", "unknown", "other")
# The contact-sales page's country/region list. The API stores any label (SPEC §12 rule 8), but
# only these travel in `contact_sales_submitted`; any other label travels as `Other`, so free
# text typed into the field never reaches PostHog.
OTHER_COUNTRY_REGION = "Other"
COUNTRY_REGIONS = (
    "Afghanistan", "Albania", "Algeria", "Andorra", "Angola", "Antigua and Barbuda", "Argentina", "Armenia",
    "Australia", "Austria", "Azerbaijan", "Bahamas", "Bahrain", "Bangladesh", "Barbados", "Belarus", "Belgium",
    "Belize", "Benin", "Bhutan", "Bolivia", "Bosnia and Herzegovina", "Botswana", "Brazil", "Brunei", "Bulgaria",
    "Burkina Faso", "Burundi", "Cabo Verde", "Cambodia", "Cameroon", "Canada", "Central African Republic", "Chad",
    "Chile", "China", "Colombia", "Comoros", "Congo", "Costa Rica", "Côte d'Ivoire", "Croatia", "Cuba", "Cyprus",
    "Czechia", "Democratic Republic of the Congo", "Denmark", "Djibouti", "Dominica", "Dominican Republic",
    "Ecuador", "Egypt", "El Salvador", "Equatorial Guinea", "Eritrea", "Estonia", "Eswatini", "Ethiopia", "Fiji",
    "Finland", "France", "Gabon", "Gambia", "Georgia", "Germany", "Ghana", "Greece", "Grenada", "Guatemala",
    "Guinea", "Guinea-Bissau", "Guyana", "Haiti", "Honduras", "Hong Kong", "Hungary", "Iceland", "India",
    "Indonesia", "Iran", "Iraq", "Ireland", "Israel", "Italy", "Jamaica", "Japan", "Jordan", "Kazakhstan", "Kenya",
    "Kiribati", "Kosovo", "Kuwait", "Kyrgyzstan", "Laos", "Latvia", "Lebanon", "Lesotho", "Liberia", "Libya",
    "Liechtenstein", "Lithuania", "Luxembourg", "Macao", "Madagascar", "Malawi", "Malaysia", "Maldives", "Mali",
    "Malta", "Marshall Islands", "Mauritania", "Mauritius", "Mexico", "Micronesia", "Moldova", "Monaco",
    "Mongolia", "Montenegro", "Morocco", "Mozambique", "Myanmar", "Namibia", "Nauru", "Nepal", "Netherlands",
    "New Zealand", "Nicaragua", "Niger", "Nigeria", "North Korea", "North Macedonia", "Norway", "Oman",
    "Pakistan", "Palau", "Palestine", "Panama", "Papua New Guinea", "Paraguay", "Peru", "Philippines", "Poland",
    "Portugal", "Puerto Rico", "Qatar", "Romania", "Russia", "Rwanda", "Saint Kitts and Nevis", "Saint Lucia",
    "Saint Vincent and the Grenadines", "Samoa", "San Marino", "São Tomé and Príncipe", "Saudi Arabia", "Senegal",
    "Serbia", "Seychelles", "Sierra Leone", "Singapore", "Slovakia", "Slovenia", "Solomon Islands", "Somalia",
    "South Africa", "South Korea", "South Sudan", "Spain", "Sri Lanka", "Sudan", "Suriname", "Sweden",
    "Switzerland", "Syria", "Taiwan", "Tajikistan", "Tanzania", "Thailand", "Timor-Leste", "Togo", "Tonga",
    "Trinidad and Tobago", "Tunisia", "Türkiye", "Turkmenistan", "Tuvalu", "Uganda", "Ukraine",
    "United Arab Emirates", "United Kingdom", "United States", "Uruguay", "Uzbekistan", "Vanuatu", "Vatican City",
    "Venezuela", "Vietnam", "Yemen", "Zambia", "Zimbabwe", OTHER_COUNTRY_REGION,
)
LENGTH_BUCKETS = ("0-100", "100-500", "500-2000", "2000+")
FEEDBACK_KINDS = ("bug", "feature", "general", "praise", "other")
DOWNLOAD_SOURCES = ("landing_hero", "landing_footer", "login", "welcome", "step3")
OSES = ("mac", "windows", "linux", "unknown")
ARCHES = ("arm64", "x64", "unknown")
INSTALLER_PLATFORMS = OSES[:-1]  # an installer is for a known OS and architecture
INSTALLER_ARCHES = ARCHES[:-1]
INSTALLER_FORMATS = ("dmg", "zip", "exe", "appimage", "deb", "rpm")
RUNTIME_PATHS = ("download_desktop", "cli", "cloud_waitlist")

_RUNTIME_LABELS = (_label("runtime_mode", "runtime_mode"), _label("provider", "provider"))
_AUTOPILOT_LABELS = (_label("cadence", "autopilot_cadence"), _label("trigger_kind", "autopilot_trigger"))

_EVENTS: tuple[EventSpec, ...] = (
    # ---- acquisition / expansion (SPEC §5.1) -------------------------------------------------
    EventSpec(
        name="signup",
        category=ACQUISITION,
        sink=POSTHOG,
        emitter=SERVER,
        description="A new user account was created (verification code or Google).",
        trigger="The shared find-or-create routine created the user row; never for a returning user or a blocked signup.",
        distinct_id="new user id",
        required=(
            Prop("email_domain", "string", "Domain of the user's email (text after the last @, lowercased)."),
            Prop("signup_source", "string", "Decoded `multica_signup_source` cookie, `\"\"` when absent or invalid.", max_length=512),
        ),
        optional=(_enum("auth_method", ("google",), "`google` for Google sign-in; absent for email-code signups."),),
        set_once_keys=("email", "signup_source"),
        metric=Metric("multica_signup_total", (_label("signup_source", "signup_source"),), "Users created."),
    ),
    EventSpec(
        name="team_invite_sent",
        category=EXPANSION,
        sink=POSTHOG,
        emitter=SERVER,
        description="A workspace invitation was created.",
        trigger="After the invitation row is written; never on a 4xx.",
        distinct_id="inviter user id",
        required=(
            Prop("invited_email_domain", "string", "Lowercased domain of the invitee's email."),
            _enum("invite_method", ("email",), "How the invitation was delivered."),
        ),
        forbidden=("invited_email",),
        workspace="required",
        metric=Metric("multica_team_invite_sent_total", (), "Invitations sent."),
    ),
    EventSpec(
        name="team_invite_accepted",
        category=EXPANSION,
        sink=POSTHOG,
        emitter=SERVER,
        description="An invitee joined a workspace.",
        trigger="After the accept transaction (invitation accepted + member inserted) commits.",
        distinct_id="invitee user id",
        required=(Prop("days_since_invite", "int", "Whole days from the invitation's creation to acceptance."),),
        workspace="required",
        metric=Metric("multica_team_invite_accepted_total", (), "Invitations accepted."),
    ),
    EventSpec(
        name="cloud_waitlist_joined",
        category=ACQUISITION,
        sink=POSTHOG,
        emitter=SERVER,
        description="A user asked to be told about the cloud runtime.",
        trigger="Every successful waitlist submission (repeats re-emit). Not a completion signal.",
        distinct_id="user id",
        required=(_flag("has_reason", "The trimmed reason is non-empty."),),
        optional=(_enum("source", CORE_SOURCES),),
        metric=Metric("multica_cloud_waitlist_joined_total", (), "Cloud waitlist submissions."),
    ),
    EventSpec(
        name="contact_sales_submitted",
        category=ACQUISITION,
        sink=POSTHOG,
        emitter=SERVER,
        description="The public contact-sales form stored an inquiry.",
        trigger="After the inquiry row is inserted; never on validation errors or 429.",
        distinct_id="inquiry id (no user identity; carries no user_id)",
        required=(
            _uuid("inquiry_id", "The stored inquiry's id (= distinct_id)."),
            _enum("company_size", COMPANY_SIZES),
            _enum("country_region", COUNTRY_REGIONS, "The submitted country/region label when it is on the page's list, else `Other`."),
            _enum("use_case", SALES_USE_CASES),
            _flag("has_goals", "The trimmed goals text is non-empty."),
        ),
        optional=(
            _enum("form_source", CONTACT_SALES_FORM_SOURCES, "Where the form was shown: request `source` (default `page`), `other` when unlisted."),
            _enum("source", ("marketing_contact_sales",)),
        ),
        forbidden=("user_id",),
        metric=Metric("multica_contact_sales_submitted_total", (_label("source", "contact_sales_source", "form_source"),), "Contact-sales inquiries."),
    ),
    EventSpec(
        name="feedback_submitted",
        category=OPS_FEEDBACK,
        sink=POSTHOG,
        emitter=SERVER,
        description="A user sent in-app feedback.",
        trigger="After the feedback row is stored and the hourly limit passed; a 429 never emits.",
        distinct_id="submitter user id",
        required=(
            _enum("message_length_bucket", LENGTH_BUCKETS, "Byte length of the trimmed message, bucketed."),
            _flag("has_images", "The message contains a markdown image."),
        ),
        optional=(
            Prop("platform", "string", "Raw `X-Client-Platform`; omitted when absent.", max_length=64),
            Prop("app_version", "string", "Raw `X-Client-Version`; omitted when absent.", max_length=64),
            _enum("kind", FEEDBACK_KINDS, "Trimmed request `kind`, default `general`."),
            _enum("source", ("ops_feedback",)),
        ),
        workspace="optional",
        metric=Metric("multica_feedback_submitted_total", (_label("kind", "feedback_kind"), _label("platform", "platform")), "Feedback submissions."),
    ),
    # ---- onboarding (SPEC §5.2, §9.6) -------------------------------------------------------
    EventSpec(
        name="onboarding_questionnaire_submitted",
        category=ONBOARDING,
        sink=POSTHOG,
        emitter=SERVER,
        description="The onboarding questionnaire became complete for the first time.",
        trigger="The first PATCH that makes team_size, role and use_case all non-empty; at most once per user.",
        distinct_id="user id",
        required=(
            _enum("team_size", TEAM_SIZES),
            _enum("role", ROLES),
            _enum("use_case", USE_CASES),
            _flag("team_size_has_other", "`team_size_other` is a non-empty string (the text itself is never sent)."),
            _flag("role_has_other", "`role_other` is a non-empty string."),
            _flag("use_case_has_other", "`use_case_other` is a non-empty string."),
        ),
        optional=(_enum("source", CORE_SOURCES),),
        set_keys=("team_size", "role", "use_case"),
        forbidden=("workspace_id",),
        metric=Metric("multica_onboarding_questionnaire_submitted_total", (), "Questionnaires completed."),
    ),
    EventSpec(
        name="onboarding_completed",
        category=ONBOARDING,
        sink=POSTHOG,
        emitter=SERVER,
        description="A user finished onboarding.",
        trigger="The first call that flips `user.onboarded_at` from NULL (completion endpoint or invitation acceptance).",
        distinct_id="user id",
        required=(
            _enum("completion_path", COMPLETION_PATHS),
            _flag("joined_cloud_waitlist", "The user had joined the cloud waitlist at completion time."),
        ),
        optional=(_enum("source", CORE_SOURCES),),
        set_once_keys=("onboarded_at",),
        workspace="optional",
        metric=Metric("multica_onboarding_completed_total", (_label("path", "onboarding_path", "completion_path"),), "Onboardings completed."),
    ),
    EventSpec(
        name="onboarding_started",
        category=ONBOARDING,
        sink=POSTHOG,
        emitter=FRONTEND,
        description="The onboarding shell mounted and the workspace list resolved.",
        trigger="Once per onboarding shell mount (browser). The server only counts it in Prometheus, on the first non-empty questionnaire PATCH.",
        distinct_id="user id",
        required=(_enum("source", ("onboarding",)),),
        optional=(_uuid("workspace_id", "The existing workspace, only when the user has one."),),
        workspace="optional",
        metric=Metric("multica_onboarding_started_total", (_label("platform", "platform"),), "Onboarding starts (server-counted)."),
    ),
    EventSpec(
        name="onboarding_runtime_path_selected",
        category=ONBOARDING,
        sink=POSTHOG,
        emitter=FRONTEND,
        description="A Step-3 runtime card was clicked (web).",
        trigger="Every card click, before any server call.",
        distinct_id="user id",
        required=(
            _enum("path", RUNTIME_PATHS),
            _enum("source", ("onboarding",)),
            _enum("surface", ("step3",)),
            _uuid("workspace_id"),
            _flag("is_mac", "The browser reports a Mac/iOS platform."),
        ),
        workspace="required",
    ),
    EventSpec(
        name="onboarding_runtime_detected",
        category=ONBOARDING,
        sink=POSTHOG,
        emitter=FRONTEND,
        description="The desktop shell's Step-3 runtime scan resolved.",
        trigger="Once per mount, at the first non-scanning phase (desktop shell only).",
        distinct_id="user id",
        required=(
            _enum("source", ("onboarding",)),
            _enum("surface", ("step3_desktop",)),
            _uuid("workspace_id"),
            _enum("outcome", ("found", "empty")),
            Prop("runtime_count", "int", "Runtimes visible at resolution."),
            Prop("online_count", "int", "Of those, how many are online."),
            Prop("providers", "string[]", "Sorted distinct provider names."),
            _flag("has_claude"),
            _flag("has_codex"),
            _flag("has_cursor"),
            Prop("detect_ms", "int", "Milliseconds from mount to resolution."),
        ),
        set_keys=("has_any_cli", "detected_cli_count"),
        workspace="required",
    ),
    # ---- download / acquisition (SPEC §15.4) ------------------------------------------------
    EventSpec(
        name="download_intent_expressed",
        category=ACQUISITION,
        sink=POSTHOG,
        emitter=FRONTEND,
        description="A call to action pointing at /download was clicked.",
        trigger="Click on any CTA whose target is /download.",
        distinct_id="anonymous id or user id",
        required=(_enum("source", DOWNLOAD_SOURCES),),
        set_keys=("platform_preference",),
    ),
    EventSpec(
        name="download_page_viewed",
        category=ACQUISITION,
        sink=POSTHOG,
        emitter=FRONTEND,
        description="The /download page mounted and OS detection resolved.",
        trigger="Once per page mount, after detection.",
        distinct_id="anonymous id or user id",
        required=(
            _enum("detected_os", OSES),
            _enum("detected_arch", ARCHES),
            _flag("detect_confident", "High-entropy client hints produced a known architecture."),
            _flag("version_available", "A release was found (false on the degraded page)."),
        ),
        set_once_keys=("first_detected_os", "first_detected_arch"),
    ),
    EventSpec(
        name="download_initiated",
        category=ACQUISITION,
        sink=POSTHOG,
        emitter=FRONTEND,
        description="A concrete installer link was clicked.",
        trigger="Click on a hero or matrix installer link, only when a release version is known.",
        distinct_id="anonymous id or user id",
        required=(
            _enum("platform", INSTALLER_PLATFORMS),
            _enum("arch", INSTALLER_ARCHES),
            _enum("format", INSTALLER_FORMATS),
            Prop("version", "string", "Release tag, e.g. `v0.2.13`.", max_length=64),
            _flag("primary_cta", "A hero link (including the alt zip), not a matrix cell."),
            _flag("matched_detect", "The installer matches the detected OS and architecture."),
        ),
    ),
    # ---- ops feedback (SPEC §16) -------------------------------------------------------------
    EventSpec(
        name="feedback_opened",
        category=OPS_FEEDBACK,
        sink=POSTHOG,
        emitter=FRONTEND,
        description="The feedback modal was opened.",
        trigger="Once per modal mount.",
        distinct_id="user id",
        required=(_enum("source", ("help_menu",)),),
        optional=(_uuid("workspace_id", "Present only when opened inside a workspace."),),
        workspace="optional",
    ),
    # ---- core loop (SPEC §5.3) ---------------------------------------------------------------
    EventSpec(
        name="workspace_created",
        category=CORE_LOOP,
        sink=POSTHOG,
        emitter=SERVER,
        description="A workspace was created; its creator became owner.",
        trigger="After the create-workspace transaction commits.",
        distinct_id="creator user id",
        required=(_enum("source", CORE_SOURCES),),
        forbidden=("is_first_workspace",),
        workspace="required",
        metric=Metric("multica_workspace_created_total", (_label("source", "task_source"),), "Workspaces created."),
    ),
    EventSpec(
        name="agent_created",
        category=CORE_LOOP,
        sink=POSTHOG,
        emitter=SERVER,
        description="An agent was created in a workspace.",
        trigger="Every successful agent creation.",
        distinct_id="owner user id",
        required=(
            _uuid("agent_id"),
            Prop("provider", "string", f"Provider of the bound runtime ({PROVIDER_EXAMPLE}).", max_length=64),
            _enum("runtime_mode", RUNTIME_MODES),
            _enum("template", TEMPLATES, "Template slug, `\"\"` when not created from the picker."),
            _flag("is_first_agent_in_workspace", "The workspace had no agents before this one."),
        ),
        optional=(_enum("source", CORE_SOURCES),),
        workspace="required",
        metric=Metric("multica_agent_created_total", (_label("runtime_mode", "runtime_mode"), _label("source", "task_source")), "Agents created."),
    ),
    EventSpec(
        name="issue_created",
        category=CORE_LOOP,
        sink=POSTHOG,
        emitter=SERVER,
        description="An issue was created.",
        trigger="After the issue row is created (UI, API, agent quick-create, autopilot).",
        distinct_id="acting user id, or agent:<agent_id>",
        required=(_uuid("issue_id"), _enum("source", ("manual", "api", "autopilot"))),
        optional=(
            _uuid("agent_id", "Assignee or creating agent."),
            _uuid("task_id", "Quick-create only."),
            _uuid("autopilot_run_id", "Autopilot only."),
            Prop("platform", "string", "Client platform header (`server` for autopilot).", max_length=64),
        ),
        workspace="required",
        metric=Metric("multica_issue_created_total", (_label("source", "task_source"), _label("platform", "platform")), "Issues created."),
    ),
    EventSpec(
        name="chat_message_sent",
        category=CORE_LOOP,
        sink=POSTHOG,
        emitter=SERVER,
        description="A user chat message was persisted and its agent task queued.",
        trigger="After the message is stored and the task queued.",
        distinct_id="user id",
        required=(_uuid("chat_session_id"), _uuid("task_id"), _uuid("agent_id"), _enum("source", ("chat",))),
        optional=(
            _enum("runtime_mode", RUNTIME_MODES),
            Prop("provider", "string", max_length=64),
            Prop("platform", "string", max_length=64),
        ),
        workspace="required",
        metric=Metric("multica_chat_message_sent_total", (_label("platform", "platform"),), "Chat messages sent."),
    ),
    EventSpec(
        name="issue_executed",
        category=CORE_LOOP,
        sink=POSTHOG,
        emitter=SERVER,
        description="The first task on an issue finished successfully.",
        trigger="At most once per issue, guarded by an atomic set of `issue.first_executed_at`.",
        distinct_id="issue creator, or agent:<creator id>",
        required=(
            _uuid("issue_id"),
            _uuid("task_id"),
            _uuid("agent_id"),
            _enum("source", ("manual", "chat", "autopilot")),
            _enum("runtime_mode", RUNTIME_MODES),
            Prop("provider", "string", max_length=64),
            Prop("task_duration_ms", "int", "Completed minus started, in ms (0 if either is missing)."),
        ),
        optional=(Prop("duration_ms", "int", "Same value as task_duration_ms."),),
        forbidden=("workspace_issue_ordinal", "is_first_issue"),
        workspace="required",
        metric=Metric("multica_issue_executed_total", (_label("source", "task_source"),), "Issues executed for the first time."),
    ),
    EventSpec(
        name="squad_created",
        category=CORE_LOOP,
        sink=POSTHOG,
        emitter=SERVER,
        description="A squad was created.",
        trigger="Entity created.",
        distinct_id="creator user id",
        required=(_uuid("squad_id"), Prop("member_count", "int"), _enum("source", ("manual",))),
        workspace="required",
        metric=Metric("multica_squad_created_total", (), "Squads created."),
    ),
    EventSpec(
        name="autopilot_created",
        category=CORE_LOOP,
        sink=POSTHOG,
        emitter=SERVER,
        description="An autopilot was created.",
        trigger="Entity created.",
        distinct_id="creator user id",
        required=(
            _uuid("autopilot_id"),
            Prop("cadence", "string", max_length=32),
            Prop("trigger_kind", "string", max_length=32),
            _enum("source", ("manual",)),
        ),
        workspace="required",
        metric=Metric("multica_autopilot_created_total", (_label("cadence", "autopilot_cadence"),), "Autopilots created."),
    ),
    # ---- system / noise (SPEC §4, D7) --------------------------------------------------------
    EventSpec(
        name="$pageview",
        category=SYSTEM,
        sink=POSTHOG,
        emitter=FRONTEND,
        description="The browser's pathname changed (normalised, consecutive duplicates skipped).",
        trigger="Initial load and every pathname change; never for a query-only change.",
        distinct_id="anonymous id or user id",
        optional=(Prop("$current_url", "string", "The normalised path (ids and issue keys removed), not a full URL.", max_length=2048),),
    ),
    EventSpec(
        name="$set",
        category=SYSTEM,
        sink=POSTHOG,
        emitter=FRONTEND,
        description="Person properties written from the browser.",
        trigger="`set_person_properties` / `set_person_properties_once` in the tracker.",
        distinct_id="anonymous id or user id",
        set_keys=("role", "use_case", "team_size", "platform_preference", "has_any_cli", "detected_cli_count"),
        set_once_keys=("first_detected_os", "first_detected_arch"),
    ),
    EventSpec(
        name="$identify",
        category=SYSTEM,
        sink=POSTHOG,
        emitter=SERVER,
        description="Merges a browser's anonymous id into the signed-in user.",
        trigger="Every sign-up or login through a request carrying `multica_anon_id` (never without it).",
        distinct_id="user id",
        required=(Prop("$anon_distinct_id", "string", "The `multica_anon_id` cookie value.", max_length=200),),
        metric=Metric("multica_identify_total", (), "Anonymous ids merged into users."),
    ),
    EventSpec(
        name="$autocapture",
        category=SYSTEM,
        sink=POSTHOG,
        emitter=POSTHOG_SDK,
        description="PostHog SDK autocapture; turned off, never emitted by this app.",
        trigger="Never.",
        distinct_id="—",
    ),
    EventSpec(
        name="$rageclick",
        category=SYSTEM,
        sink=POSTHOG,
        emitter=POSTHOG_SDK,
        description="PostHog SDK rage clicks; turned off, never emitted by this app.",
        trigger="Never.",
        distinct_id="—",
    ),
    # ---- operational, Prometheus only (SPEC §6) ----------------------------------------------
    EventSpec(
        name="runtime_registered",
        category=OPERATIONAL,
        sink=PROMETHEUS,
        emitter=SERVER,
        description="A (workspace, daemon, provider) runtime was registered for the first time.",
        trigger="The insert path of the registration upsert; heartbeats and re-registrations never.",
        distinct_id="owner user id, or workspace:<id> for daemon tokens",
        required=(
            _uuid("runtime_id"),
            Prop("daemon_id", "string", max_length=200),
            _enum("runtime_mode", ("local",)),
            Prop("provider", "string", max_length=64),
        ),
        optional=(Prop("runtime_version", "string", max_length=64), Prop("cli_version", "string", max_length=64)),
        workspace="optional",
        metric=Metric("multica_runtime_registered_total", _RUNTIME_LABELS, "Runtimes registered."),
    ),
    EventSpec(
        name="runtime_ready",
        category=OPERATIONAL,
        sink=PROMETHEUS,
        emitter=SERVER,
        description="A newly registered runtime is online.",
        trigger="The insert path when the new row is online; reconnects never.",
        distinct_id="owner user id, or workspace:<id> for daemon tokens",
        required=(_uuid("runtime_id"), Prop("daemon_id", "string", max_length=200), _enum("runtime_mode", RUNTIME_MODES), Prop("provider", "string", max_length=64)),
        optional=(Prop("ready_duration_ms", "int", "Only when measured (> 0); never 0."),),
        workspace="optional",
        metric=Metric("multica_runtime_ready_total", _RUNTIME_LABELS, "Runtimes ready."),
    ),
    EventSpec(
        name="runtime_failed",
        category=OPERATIONAL,
        sink=PROMETHEUS,
        emitter=SERVER,
        description="Persisting a runtime registration failed.",
        trigger="Registration persistence failure.",
        distinct_id="owner user id, or workspace:<id> for daemon tokens",
        required=(
            Prop("daemon_id", "string", max_length=200),
            Prop("provider", "string", max_length=64),
            Prop("failure_reason", "string", max_length=64),
            Prop("error_type", "string", max_length=64),
            _flag("recoverable"),
        ),
        optional=(_enum("runtime_mode", RUNTIME_MODES),),
        workspace="optional",
        metric=Metric(
            "multica_runtime_failed_total",
            _RUNTIME_LABELS + (_label("failure_reason", "failure_reason"), _label("recoverable", "bool")),
            "Runtime registrations that failed.",
        ),
    ),
    EventSpec(
        name="runtime_offline",
        category=OPERATIONAL,
        sink=PROMETHEUS,
        emitter=SERVER,
        description="A runtime went offline.",
        trigger="Explicit deregister, or the sweeper after missed heartbeats.",
        distinct_id="owner user id, or workspace:<id> for daemon tokens",
        required=(_uuid("runtime_id"), Prop("daemon_id", "string", max_length=200), _enum("runtime_mode", RUNTIME_MODES), Prop("provider", "string", max_length=64)),
        workspace="optional",
        metric=Metric("multica_runtime_offline_total", _RUNTIME_LABELS, "Runtimes gone offline."),
    ),
    EventSpec(
        name="autopilot_run_started",
        category=OPERATIONAL,
        sink=PROMETHEUS,
        emitter=SERVER,
        description="An autopilot run started.",
        trigger="Run start.",
        distinct_id="autopilot creator, or agent:<id>",
        required=(_uuid("autopilot_id"), _uuid("autopilot_run_id"), _uuid("agent_id"), _enum("trigger_source", ("manual", "schedule", "webhook", "api")), _enum("source", ("autopilot",))),
        optional=(Prop("cadence", "string", max_length=32), Prop("trigger_kind", "string", max_length=32)),
        workspace="optional",
        metric=Metric("multica_autopilot_run_started_total", _AUTOPILOT_LABELS, "Autopilot runs started."),
    ),
    EventSpec(
        name="autopilot_run_completed",
        category=OPERATIONAL,
        sink=PROMETHEUS,
        emitter=SERVER,
        description="An autopilot run completed.",
        trigger="Run terminal (completed).",
        distinct_id="autopilot creator, or agent:<id>",
        required=(_uuid("autopilot_id"), _uuid("autopilot_run_id"), _uuid("agent_id"), _enum("trigger_source", ("manual", "schedule", "webhook", "api")), _enum("source", ("autopilot",)), Prop("duration_ms", "int")),
        optional=(Prop("cadence", "string", max_length=32), Prop("trigger_kind", "string", max_length=32)),
        workspace="optional",
        metric=Metric("multica_autopilot_run_terminal_total", _AUTOPILOT_LABELS + (Label("terminal_status", value="completed"),), "Autopilot runs finished."),
    ),
    EventSpec(
        name="autopilot_run_failed",
        category=OPERATIONAL,
        sink=PROMETHEUS,
        emitter=SERVER,
        description="An autopilot run failed.",
        trigger="Run terminal (failed).",
        distinct_id="autopilot creator, or agent:<id>",
        required=(
            _uuid("autopilot_id"),
            _uuid("autopilot_run_id"),
            _uuid("agent_id"),
            _enum("trigger_source", ("manual", "schedule", "webhook", "api")),
            _enum("source", ("autopilot",)),
            Prop("duration_ms", "int"),
            Prop("failure_reason", "string", max_length=64),
            _enum("error_type", ("configuration", "issue_terminal", "dispatch_error", "task_error", "autopilot_error")),
            _flag("will_retry", "Always false."),
        ),
        optional=(Prop("cadence", "string", max_length=32), Prop("trigger_kind", "string", max_length=32)),
        forbidden=("recoverable",),
        workspace="optional",
        metric=Metric("multica_autopilot_run_terminal_total", _AUTOPILOT_LABELS + (Label("terminal_status", value="failed"),), "Autopilot runs finished."),
    ),
) + tuple(
    EventSpec(
        name=f"agent_task_{stage}",
        category=OPERATIONAL,
        sink=PROMETHEUS,
        emitter=SERVER,
        description=f"Agent task {stage}: recorded by typed metric methods; no analytics event exists.",
        trigger="Task lifecycle (SPEC §6.3).",
        distinct_id="—",
        typed_metrics_only=True,
    )
    for stage in ("queued", "dispatched", "started", "completed", "failed", "cancelled")
)

CATALOG: dict[str, EventSpec] = {spec.name: spec for spec in _EVENTS}

# Super-properties the browser tracker registers; the ingestion endpoint accepts them on any event.
FRONTEND_SUPER_PROPERTIES: dict[str, Prop] = {
    p.name: p
    for p in (
        _enum("client_type", ("web", "desktop")),
        Prop("app_version", "string", max_length=64),
        Prop("environment", "string", max_length=32),
        Prop("event_schema_version", "int"),
        _flag("is_demo"),
        Prop("user_id", "string", max_length=64),
    )
}


def is_metrics_only(name: str) -> bool:
    """True for the Prometheus-only events (runtime lifecycle and autopilot runs, SPEC §2.10)."""
    spec = CATALOG.get(name)
    return spec is not None and spec.metrics_only and not spec.typed_metrics_only


def ingestible(name: str) -> bool:
    """Events the browser may send to `POST /api/analytics/events` (D7)."""
    spec = CATALOG.get(name)
    return spec is not None and spec.emitter == FRONTEND and spec.sink == POSTHOG
