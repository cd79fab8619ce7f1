"""Every model, imported in one place so Alembic and the app see the whole schema."""

from multica.agents.models import Agent  # noqa: F401
from multica.auth.models import User, VerificationCode  # noqa: F401
from multica.autopilots.models import Autopilot, AutopilotRun  # noqa: F401
from multica.chat.models import ChatMessage, ChatSession  # noqa: F401
from multica.feedback.models import Feedback  # noqa: F401
from multica.invitations.models import InvitationRateHit, WorkspaceInvitation  # noqa: F401
from multica.issues.models import Issue  # noqa: F401
from multica.runtimes.models import DaemonToken, Runtime  # noqa: F401
from multica.sales.models import ContactSalesInquiry  # noqa: F401
from multica.squads.models import Squad, SquadMember  # noqa: F401
from multica.tasks.models import AgentTask  # noqa: F401
from multica.workspaces.models import Member, Workspace  # noqa: F401
