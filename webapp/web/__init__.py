"""What every view stands on: the Flask extensions, the services by name, a page or its htmx region,
error pages, security headers, static files, body limits, logs, sessions and the instance folder."""
