"""What SES publishes about a sent email (through the configuration set's SNS event destination).

Only the fields the board acts on are read: the event type and, for bounces and complaints, the
recipients. See AWS's "Contents of event data that Amazon SES publishes to Amazon SNS".
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator


class EventRecipient(BaseModel):
    model_config = ConfigDict(extra="ignore")

    # At most 254 characters (RFC 5321).
    email_address: str = Field(
        alias="emailAddress", min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$"
    )


class BounceDetails(BaseModel):
    model_config = ConfigDict(extra="ignore")

    # Permanent (the address does not exist), Transient (mailbox full, ...) or Undetermined.
    bounce_type: str = Field(alias="bounceType", min_length=1)
    bounced_recipients: list[EventRecipient] = Field(alias="bouncedRecipients", min_length=1)


class ComplaintDetails(BaseModel):
    model_config = ConfigDict(extra="ignore")

    complained_recipients: list[EventRecipient] = Field(alias="complainedRecipients", min_length=1)


class SesEmailEvent(BaseModel):
    """One SES event record. `eventType` with event publishing; identity notifications, should an
    operator also point those at the topic, name the same field `notificationType`."""

    model_config = ConfigDict(extra="ignore")

    event_type: str = Field(validation_alias=AliasChoices("eventType", "notificationType"), min_length=1)
    bounce: BounceDetails | None = None
    complaint: ComplaintDetails | None = None

    @model_validator(mode="after")
    def _details_present(self) -> SesEmailEvent:
        # A Bounce without its bounce object (or a Complaint without its complaint) is malformed.
        if self.event_type == "Bounce" and self.bounce is None:
            raise ValueError("a Bounce event carries a bounce object")
        if self.event_type == "Complaint" and self.complaint is None:
            raise ValueError("a Complaint event carries a complaint object")
        return self


SuppressionReason = Literal["bounce", "complaint"]
