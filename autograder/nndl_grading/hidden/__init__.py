"""Hidden checks, one module per chapter. Each ``check_*`` takes the student's notebook globals ``env``
and raises ``CheckFailure`` (or any exception) when the student's component is wrong."""
