"""Every table of the platform, one module per domain; importing this registers them all.

No table records ethnicity, and none may: the platform works against segregation without
counting anyone by origin (``tests/db/test_migrations.py`` guards this).
"""

from learntogether.db.models.activity import (
    Activity,
    LessonReach,
    ParticipationCount,
    ParticipationMonth,
    ParticipationTotal,
    ParticipationWeek,
    Verb,
)
from learntogether.db.models.audit import AuditLog
from learntogether.db.models.broadcasts import (
    Broadcast,
    BroadcastKind,
    BroadcastStatus,
    Delivery,
    DeliveryStatus,
    WaitReason,
    broadcast_cohorts,
)
from learntogether.db.models.certificates import Certificate
from learntogether.db.models.cohorts import Cohort, Membership, cohort_mediators, cohort_tracks
from learntogether.db.models.console import ConsoleSession, console_session_cohorts
from learntogether.db.models.content import (
    Lesson,
    LessonStatus,
    LessonVersion,
    Track,
    VersionStatus,
)
from learntogether.db.models.events import Attendance, AttendanceMethod, Event
from learntogether.db.models.goals import Goal, GoalMeasure
from learntogether.db.models.help import HelpCopy, HelpMessage
from learntogether.db.models.media import Media, TelegramFile
from learntogether.db.models.progress import (
    Answer,
    LessonProgress,
    ProgressStatus,
    QuestionKind,
    QuestionSum,
    QuizAttempt,
)
from learntogether.db.models.recordings import RecordingStatus, StepRecording
from learntogether.db.models.reminders import Reminder
from learntogether.db.models.reviews import Review, ReviewStatus
from learntogether.db.models.tokens import ApiToken, TokenRole, api_token_cohorts
from learntogether.db.models.users import Role, User, UserStatus

__all__ = [
    "Activity",
    "Answer",
    "ApiToken",
    "Attendance",
    "AttendanceMethod",
    "AuditLog",
    "Broadcast",
    "BroadcastKind",
    "BroadcastStatus",
    "Certificate",
    "Cohort",
    "ConsoleSession",
    "Delivery",
    "DeliveryStatus",
    "Event",
    "Goal",
    "GoalMeasure",
    "HelpCopy",
    "HelpMessage",
    "Lesson",
    "LessonProgress",
    "LessonReach",
    "LessonStatus",
    "LessonVersion",
    "Media",
    "Membership",
    "ParticipationCount",
    "ParticipationMonth",
    "ParticipationTotal",
    "ParticipationWeek",
    "ProgressStatus",
    "QuestionKind",
    "QuestionSum",
    "QuizAttempt",
    "RecordingStatus",
    "Reminder",
    "Review",
    "ReviewStatus",
    "Role",
    "StepRecording",
    "TelegramFile",
    "TokenRole",
    "Track",
    "User",
    "UserStatus",
    "Verb",
    "VersionStatus",
    "WaitReason",
    "api_token_cohorts",
    "broadcast_cohorts",
    "cohort_mediators",
    "cohort_tracks",
    "console_session_cohorts",
]
