"""Refuse what AWS refuses: requests checked against botocore's models and documented rules."""
