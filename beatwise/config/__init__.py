"""Agency configuration: schema and loader."""

from beatwise.config.load import ConfigError, ConfigProblem, load_config, parse_config
from beatwise.config.schema import AgencyConfig, CrimeType, Feed

__all__ = ["AgencyConfig", "ConfigError", "ConfigProblem", "CrimeType", "Feed", "load_config", "parse_config"]
