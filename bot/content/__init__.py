"""Content: HTML to text, boilerplate, lead, teaser, hashtags and templates (all pure)."""
