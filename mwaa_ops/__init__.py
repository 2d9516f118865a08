"""Operating tools for the MWAA environments of this package's profiles: the ``mwaa-ops``
command-line tool and what it is built from (it never imports aws-cdk-lib)."""
