"""The Qt user interface: main window, schema-built forms, job runner, views."""
