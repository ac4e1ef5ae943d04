"""Foundation tests."""
