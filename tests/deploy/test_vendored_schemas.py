"""The schemas the deployment tests validate against are vendored with their licences and their provenance."""

from tests.deploy.deployment_files import COMPOSE_SPEC_SCHEMA, KEDA_SCALEDOBJECT_CRD, SCHEMAS


def test_every_vendored_schema_has_its_licence_and_source() -> None:
    readme = (SCHEMAS / "README.md").read_text()
    for schema in (COMPOSE_SPEC_SCHEMA, KEDA_SCALEDOBJECT_CRD):
        assert (schema.parent / "LICENSE").read_text().strip(), f"{schema.parent} needs the LICENSE of its project"
        assert f"`{schema.parent.name}/{schema.name}`" in readme, (
            f"deploy/schemas/README.md must say where {schema.name} came from"
        )
