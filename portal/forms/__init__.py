"""Forms: shared base and field types here; one module per blueprint beside it (portal/forms/<blueprint>.py)."""
from flask_wtf import FlaskForm


class EmptyForm(FlaskForm):
    """A POST-only button still carries its CSRF token."""
