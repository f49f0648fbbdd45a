"""Every table, imported in one place so Alembic and the tests see the whole schema."""

from server.articles.models import Article
from server.comments.models import Comment, Reaction, Report
from server.db import Base
from server.lifecycle.models import OutboxBatch  # noqa: F401
from server.liveblog.models import LiveBlog, LiveBlogPost, LiveBlogPostRevision  # noqa: F401
from server.moderation.models import ModerationAction
from server.moderation.policy.store import ModerationPolicy, ModerationWordlist  # noqa: F401
from server.users.models import User

metadata = Base.metadata

__all__ = ["Article", "Comment", "ModerationAction", "Reaction", "Report", "User", "metadata"]
