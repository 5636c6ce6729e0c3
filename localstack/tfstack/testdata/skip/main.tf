# A root as small as an apply gets, for tfstack's SkipUnchanged test.
resource "aws_sns_topic" "this" {
  name = var.topic
}

output "topic_arn" {
  value = aws_sns_topic.this.arn
}
