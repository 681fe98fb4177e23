from tests.integration.compute.harness import local_env

__all__ = ["local_env"]
