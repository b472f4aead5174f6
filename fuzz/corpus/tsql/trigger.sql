CREATE TRIGGER dbo.tr2 ON dbo.Customers AFTER UPDATE AS UPDATE dbo.Notes SET Flag = 1
GO
UPDATE dbo.Customers SET Name = N'q'