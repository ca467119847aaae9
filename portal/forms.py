"""Forms shared across blueprints."""
from flask_wtf import FlaskForm


class EmptyForm(FlaskForm):
    """A POST-only button still carries its CSRF token."""
