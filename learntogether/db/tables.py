"""The mapped classes' tables, for statements written on the tables (Core) where loading and
flushing entities would cost more than the work: the lesson press, the outbox, the sums."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from learntogether.db.models import (
    Answer,
    Delivery,
    Lesson,
    LessonProgress,
    LessonVersion,
    QuestionSum,
    QuizAttempt,
    Track,
)

answers = cast(Table, Answer.__table__)
attempts = cast(Table, QuizAttempt.__table__)
deliveries = cast(Table, Delivery.__table__)
lessons = cast(Table, Lesson.__table__)
progress = cast(Table, LessonProgress.__table__)
question_sums = cast(Table, QuestionSum.__table__)
tracks = cast(Table, Track.__table__)
versions = cast(Table, LessonVersion.__table__)
